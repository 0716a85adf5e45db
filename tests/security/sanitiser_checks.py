"""The properties every output of the post pipeline's sanitiser must have.

Shared by the hypothesis tests (`test_sanitiser_properties.py`) and the
atheris fuzz target (`fuzz_sanitiser.py`), so both hold the pipeline to the
same rules: no script element, no event-handler attribute, no URL with a
disallowed scheme, and sanitising again changes nothing.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from posts.rendering import URL_SCHEMES, render_markdown, sanitize

# What XSS payloads are made of; generators splice these with random text.
FRAGMENTS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//x.invalid/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    "<svg/onload=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="java&#x09;script:alert(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
    '<iframe src="https://example.org"></iframe>',
    '<div style="background:url(javascript:alert(1))">',
    '<body onload="alert(1)">',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<form action="javascript:alert(1)"><button>x</button></form>',
    "<object data=x></object><embed src=x>",
    '"><img src=x onerror=alert(1)>',
    "[x](javascript:alert(1))",
    "![x](data:image/svg+xml;base64,PHN2Zz4=)",
    "<!--<img src=x onerror=alert(1)>-->",
    "```\n<script>alert(1)</script>\n```",
    "<details open ontoggle=alert(1)>",
    "&lt;script&gt;",
    "<",
    ">",
    '"',
    "'",
    "\n",
    " ",
    "텍스트",
]

SCRIPT_TAG = re.compile(r"<\s*script", re.IGNORECASE)
URL_ATTRIBUTES = {
    "href", "src", "action", "formaction", "xlink:href", "poster", "data",
    "background", "cite", "srcset", "ping",
}  # fmt: skip
SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")
# What a browser's URL parser ignores: C0 controls and spaces around the URL,
# tabs and newlines anywhere in it (so "java\tscript:" is javascript:).
_URL_STRIP = "".join(chr(c) for c in range(0x21))
_URL_DROP = re.compile(r"[\t\n\r]")


class _StartTags(HTMLParser):
    """Every start tag's attributes, entity references decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.attributes: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attributes += [(tag, name, value or "") for name, value in attrs]


def url_scheme(value: str) -> str | None:
    """The scheme a browser would see in an attribute's URL, lower case."""
    found = SCHEME.match(_URL_DROP.sub("", value.strip(_URL_STRIP)))
    return found.group(1).lower() if found else None


def assert_inert(html: str) -> None:
    """No script element, no on* attribute, no URL outside `URL_SCHEMES`.

    Attributes are read with an HTML parser, not a regex over the whole
    string: text such as `&lt;a href="javascript:x"` is escaped prose.
    """
    assert not SCRIPT_TAG.search(html), html
    parser = _StartTags()
    parser.feed(html)
    parser.close()
    for tag, name, value in parser.attributes:
        assert not name.startswith("on"), (tag, name, value, html)
        if name in URL_ATTRIBUTES:
            urls = [part.split()[0] for part in value.split(",") if part.split()]
            for url in urls if name == "srcset" else [value]:
                scheme = url_scheme(url)
                assert scheme is None or scheme in URL_SCHEMES, (tag, name, value)


def check_sanitize(raw_html: str) -> None:
    """`sanitize` makes `raw_html` inert, and sanitising again changes nothing."""
    once = sanitize(raw_html)
    assert_inert(once)
    assert sanitize(once) == once, (once, sanitize(once))


def check_render(source: str) -> None:
    """The whole Markdown pipeline's HTML for `source` is inert."""
    assert_inert(render_markdown(source).html)
