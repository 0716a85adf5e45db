"""The app shell: icons, manifest, error pages, fonts and print styles."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.test import Client, override_settings

from tests.site.conftest import SiteSample

pytestmark = pytest.mark.django_db

STATIC = Path(__file__).resolve().parents[2] / "static"


def test_manifest_names_the_site_and_lists_icons_that_exist(client: Client) -> None:
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["name"] == settings.SITE_NAME
    assert manifest["lang"] == "ko" and manifest["description"] == "개인 기술 블로그"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200, icon["src"]


def test_favicon_ico_redirects_to_the_static_icon(client: Client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].startswith("/static/icons/favicon")
    assert client.get(response["Location"]).status_code == 200


def test_pages_link_icons_manifest_fonts_and_print_styles(
    client: Client, site_sample: SiteSample
) -> None:
    html = client.get("/").content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in html
    assert re.search(r'<link rel="icon" href="/static/icons/icon[^"]*\.svg"', html)
    assert "/static/fonts/pretendard/pretendard" in html
    assert re.search(r'href="/static/css/print[^"]*\.css" media="print"', html)
    assert '<script src="/static/js/site.js' in html


def test_web_font_is_self_hosted_split_by_unicode_range_and_swaps() -> None:
    css = (STATIC / "fonts/pretendard/pretendard.css").read_text()
    faces = css.count("@font-face")
    assert faces > 50
    assert css.count("font-display: swap") == faces
    assert css.count("unicode-range:") == faces
    assert "http" not in css.replace("http://scripts.sil.org/OFL", "").replace(
        "https://github.com/orioncactus/pretendard", ""
    )
    for name in re.findall(r"url\(\./([^)]+)\)", css):
        assert (STATIC / "fonts/pretendard" / name).is_file(), name
    assert (
        "SIL Open Font License" in (STATIC / "fonts/pretendard/LICENSE.txt").read_text()
    )
    site_css = (STATIC / "css/site.css").read_text()
    assert '--font: "Pretendard Variable"' in site_css
    mono = re.search(r"--mono:([^;]+);", site_css)
    assert (
        mono
        and "Noto Sans Mono CJK KR" in mono.group(1)
        and "Pretendard" in mono.group(1)
    )


def test_404_page_is_in_the_site_style(client: Client, site_sample: SiteSample) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "페이지를 찾을 수 없습니다" in html
    assert 'class="site-header"' in html and "/static/css/site" in html
    assert '<meta name="robots" content="noindex">' in html


@override_settings(DEBUG=False)
def test_500_page_renders_without_context_and_in_the_site_style() -> None:
    html = render_to_string("500.html")
    assert "문제가 생겼습니다" in html
    assert "/static/css/site" in html and "<script>" not in html


def test_print_stylesheet_hides_the_chrome() -> None:
    css = (STATIC / "css/print.css").read_text()
    for selector in (
        ".site-header",
        ".site-footer",
        ".code-copy",
        ".language-switcher",
    ):
        assert selector in css
