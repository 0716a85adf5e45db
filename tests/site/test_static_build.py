"""The stylesheets are built from static/scss and served as production serves them.

A daphne with production settings serves what collectstatic wrote: the CSS
under hashed names, with brotli and gzip variants and a year's cache
lifetime; the bytes served are what the SCSS sources compile to now.
"""

from __future__ import annotations

import gzip
import re
import urllib.error
import urllib.request
from pathlib import Path

import brotli
import pytest

from tests.conftest import REPO_ROOT
from tests.services import DaphneServer
from tests.site.conftest import fresh_css

pytestmark = pytest.mark.django_db(transaction=True)

YEAR = 365 * 24 * 3600


def _get(url: str, encoding: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Accept-Encoding": encoding})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_the_scss_sources_are_partials_of_two_entry_points() -> None:
    scss = REPO_ROOT / "static/scss"
    entries = sorted(p.name for p in scss.glob("[!_]*.scss"))
    partials = {p.stem.lstrip("_") for p in scss.glob("_*.scss")}
    assert entries == ["print.scss", "site.scss"]
    used = set(re.findall(r'@use "([^"]+)"', (scss / "site.scss").read_text()))
    assert {"themes", "typography", "layout", "posts", "code"} <= used
    assert used <= partials
    # The compiled CSS is build output, never committed.
    assert "/static/css/" in (REPO_ROOT / ".gitignore").read_text().split()


def test_built_css_is_served_hashed_compressed_and_cached_for_a_year(
    production_daphne: DaphneServer, collected_static: Path
) -> None:
    status, _, body = _get(production_daphne.url + "/", "identity")
    assert status == 200
    html = body.decode()
    links = {
        name: re.search(rf'href="(/static/css/{name}\.([0-9a-f]{{12}})\.css)"', html)
        for name in ("site", "print")
    }
    assert all(links.values()), "the page links the hashed stylesheets"
    for name, link in links.items():
        assert link is not None
        url = production_daphne.url + link.group(1)
        expected = fresh_css(f"{name}.scss")
        assert len(expected) > 300

        status, headers, raw = _get(url, "br")
        assert status == 200
        assert headers["Content-Encoding"] == "br"
        assert headers["Content-Type"].startswith("text/css")
        cache_control = headers["Cache-Control"]
        max_age = int(re.search(r"max-age=(\d+)", cache_control).group(1))  # type: ignore[union-attr]
        assert max_age >= YEAR and "immutable" in cache_control
        assert "Accept-Encoding" in headers["Vary"]
        assert len(raw) < len(expected)
        # What is served is the SCSS as it compiles today, byte for byte.
        assert brotli.decompress(raw) == expected

        status, headers, raw = _get(url, "gzip")
        assert headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(raw) == expected

        status, headers, raw = _get(url, "identity")
        assert "Content-Encoding" not in headers and raw == expected
        print(
            f"{link.group(1)}: {len(expected)} bytes, "
            f"br {len(brotli.compress(expected))}, max-age {max_age}"
        )

    # The sources are not collected, so not served.
    assert not (collected_static / "scss").exists()
    status, _, _ = _get(production_daphne.url + "/static/scss/site.scss", "identity")
    assert status == 404
    # The highlighter's styles are part of site.css, not a request of their own.
    assert "css/pygments" not in html
    assert b".highlight .k{" in fresh_css("site.scss")
