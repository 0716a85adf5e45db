"""Korean (default) and English UI: every public page in both, none untranslated."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation
from django.utils.translation.template import templatize

from tests.site.conftest import SiteSample

pytestmark = pytest.mark.django_db

REPO_ROOT = Path(__file__).resolve().parents[2]
# Strings that read the same in both languages.
SAME_IN_BOTH = {"SHA-256", "RSS", "Atom", "Markdown"}
GETTEXT_CALL = re.compile(
    r"\b(n?)gettext\(\s*u?'((?:[^'\\]|\\.)*)'(?:\s*,\s*u?'((?:[^'\\]|\\.)*)')?"
)


def _template_files() -> list[Path]:
    roots = [REPO_ROOT / "templates", *REPO_ROOT.glob("*/templates")]
    return sorted(
        p for root in roots for p in root.rglob("*.html") if ".venv" not in p.parts
    )


def _template_msgids() -> set[tuple[str, str | None]]:
    """Every msgid (and plural) the templates mark, as makemessages sees them."""
    found: set[tuple[str, str | None]] = set()
    for path in _template_files():
        source = templatize(path.read_text(), origin=str(path))
        for plural, singular, other in GETTEXT_CALL.findall(source):
            unescape = lambda s: s.replace("\\'", "'").replace("\\\\", "\\")  # noqa: E731
            found.add((unescape(singular), unescape(other) if plural else None))
    return found


# Python code whose messages people read (validation errors, API and chat
# error text, admin labels and actions), in the site-wide catalogue. The
# posts app's are in posts/locale and checked by its own tests.
PYTHON_APPS = ("accounts", "media_store", "talk", "blog_site")
GETTEXT_FUNCS = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy"}


def _python_msgids() -> set[tuple[str, str | None]]:
    """Every literal msgid (and plural) passed to gettext in those apps."""
    found: set[tuple[str, str | None]] = set()
    for app in PYTHON_APPS:
        for path in sorted((REPO_ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if not (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in GETTEXT_FUNCS
                    and node.args
                ):
                    continue
                literals = [
                    a.value
                    for a in node.args[:2]
                    if isinstance(a, ast.Constant) and isinstance(a.value, str)
                ]
                assert literals, f"{path}:{node.lineno}: gettext of a non-literal"
                plural = literals[1] if node.func.id.startswith("n") else None
                found.add((literals[0], plural))
    return found


def _untranslated(msgids: set[tuple[str, str | None]]) -> list[str]:
    untranslated = []
    with translation.override("ko"):
        for singular, plural in sorted(msgids, key=lambda m: m[0]):
            if singular in SAME_IN_BOTH:
                continue
            if plural is None:
                done = translation.gettext(singular) != singular
            else:
                done = translation.ngettext(singular, plural, 2) != plural
            if not done:
                untranslated.append(singular)
    return untranslated


def test_korean_catalogue_translates_every_string_the_templates_use() -> None:
    msgids = _template_msgids()
    assert len(msgids) > 60  # the scan really reads the templates
    assert _untranslated(msgids) == []


def test_korean_catalogue_translates_the_python_messages_people_read() -> None:
    msgids = _python_msgids()
    assert len(msgids) > 80  # the scan really reads the apps
    for expected in (
        "Log in to upload images.",  # media_store JSON error
        "This image is not yours.",  # media_store API error
        "Only JPEG, PNG, GIF and WebP images can be uploaded.",  # validation
        "Unable to log in with the given credentials.",  # accounts API
        "The frame is not JSON.",  # talk error frame
        "An empty message cannot be sent.",  # talk validation
        "Block the senders' sessions",  # talk admin action
    ):
        assert (expected, None) in msgids, expected
    assert _untranslated(msgids) == []


def test_python_messages_follow_the_visitors_language(client: Client) -> None:
    url = "/media-admin/images/upload"
    korean = client.post(url, headers={"accept-language": "ko"})
    assert korean.status_code == 403
    assert korean.json() == {"error": "이미지를 올리려면 로그인하세요."}
    english = client.post(url, headers={"accept-language": "en"})
    assert english.json() == {"error": "Log in to upload images."}
    with translation.override("ko"):
        from talk.protocol import ProtocolError, parse_frame

        with pytest.raises(ProtocolError) as refused:
            parse_frame("{not json", None)
    assert refused.value.detail == "JSON 형식이 아닙니다."


def _get(client: Client, url: str, language: str) -> str:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_every_public_page_renders_in_korean_and_english(
    client: Client, site_sample: SiteSample
) -> None:
    for url in site_sample.urls:
        korean = _get(client, url, "ko")
        assert '<html lang="ko"' in korean, url
        assert "본문으로 건너뛰기" in korean and "Skip to content" not in korean, url
        assert 'data-copy-label="복사"' in korean
        english = _get(client, url, "en")
        assert '<html lang="en"' in english, url
        assert "Skip to content" in english and "본문으로 건너뛰기" not in english, url
        assert 'data-copy-label="Copy"' in english


def test_korean_is_the_default_and_accept_language_picks_english(
    client: Client, site_sample: SiteSample
) -> None:
    assert '<html lang="ko"' in client.get("/").content.decode()
    english = client.get("/", headers={"accept-language": "en-US,en;q=0.9"})
    assert '<html lang="en"' in english.content.decode()


def test_chat_page_strings_follow_the_language(
    client: Client, site_sample: SiteSample
) -> None:
    korean = _get(client, "/talk/", "ko")
    assert ">보내기</button>" in korean
    assert 'data-t-joined="{name}님이 입장했습니다."' in korean
    english = _get(client, "/talk/", "en")
    assert ">Send</button>" in english
    assert 'data-t-joined="{name} joined."' in english
    assert 'data-locale="en"' in english


def test_dates_follow_the_locale(client: Client, site_sample: SiteSample) -> None:
    published = site_sample.post.published_at
    assert published is not None
    with translation.override("ko"):
        from django.utils.formats import date_format

        korean_date = date_format(published, "DATE_FORMAT")
    with translation.override("en"):
        english_date = date_format(published, "DATE_FORMAT")
    assert korean_date != english_date
    assert "년" in korean_date


def test_language_switcher_posts_to_set_language_with_csrf(
    site_sample: SiteSample,
) -> None:
    client = Client(enforce_csrf_checks=True)
    page = client.get("/").content.decode()
    form = re.search(
        r'<form class="language-switcher" action="([^"]+)" method="post"', page
    )
    assert form and form.group(1) == "/i18n/setlang/"
    # A cached page carries no token; without one the switch is refused.
    assert 'name="csrfmiddlewaretoken" value=""' in page
    refused = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert refused.status_code == 403
    # The script's path: fetch the cookie, send it back as the form field.
    assert client.get("/i18n/csrf").status_code == 204
    token = client.cookies["csrftoken"].value
    switched = client.post(
        "/i18n/setlang/",
        {"language": "en", "next": "/talk/", "csrfmiddlewaretoken": token},
    )
    assert switched.status_code == 302 and switched["Location"] == "/talk/"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert '<html lang="en"' in client.get("/talk/").content.decode()
