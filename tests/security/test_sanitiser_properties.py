"""Properties of the post pipeline's sanitiser, over generated hostile input.

Hypothesis builds HTML and Markdown from fragments that XSS payloads are made
of; whatever comes out must hold no script element, no event-handler
attribute and no URL with a disallowed scheme, and sanitising again must
change nothing.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from posts.rendering import URL_SCHEMES, render_markdown, sanitize

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
HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
URL_ATTR = re.compile(r"\b(?:href|src|action|formaction)\s*=\s*\"([^\"]*)\"", re.I)

hostile = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=12
).map("".join)


def _assert_inert(html: str) -> None:
    assert not SCRIPT_TAG.search(html), html
    assert not HANDLER.search(html), html
    for url in URL_ATTR.findall(html):
        scheme = re.match(r"\s*([a-zA-Z][a-zA-Z0-9+.-]*):", url)
        assert scheme is None or scheme.group(1).lower() in URL_SCHEMES, url


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile)
def test_sanitised_html_is_inert_and_sanitising_again_changes_nothing(raw: str) -> None:
    once = sanitize(raw)
    _assert_inert(once)
    assert sanitize(once) == once


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile)
def test_rendered_markdown_is_inert(source: str) -> None:
    _assert_inert(render_markdown(source).html)
