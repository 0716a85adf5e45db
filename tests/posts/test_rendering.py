"""The Markdown pipeline: features the source posts use, and sanitising."""

from __future__ import annotations

import re

import pytest

from posts import rendering
from posts.rendering import image_ids_in, reading_minutes, render_markdown

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    '<a href="&#106;avascript:alert(1)">encoded</a>',
    "[md link](javascript:alert(1))",
    "![md image](javascript:alert(1))",
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    '<iframe src="https://evil.example/"></iframe>',
    '<svg onload="alert(1)"><circle r="1"/></svg>',
    '<div style="background:url(javascript:alert(1))">styled</div>',
    '<body onload="alert(1)">',
    '<object data="x.swf"></object><embed src="x.swf">',
    '<form action="https://evil.example"><input name=x><button>go</button></form>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style>",
    '<details open ontoggle="alert(1)"><summary>x</summary></details>',
    '<a href="vbscript:msgbox(1)">vb</a>',
    "<meta http-equiv=refresh content='0;url=javascript:alert(1)'>",
    '<base href="javascript:alert(1)//">',
    '<link rel=stylesheet href="https://evil.example/x.css">',
    '"><script>alert(document.cookie)</script>',
    "```html\n<script>alert('in code is text')</script>\n```",
]


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_xss_payload_comes_out_inert(payload: str) -> None:
    html = render_markdown(f"글 앞\n\n{payload}\n\n글 뒤").html.lower()
    assert "<script" not in html
    assert "javascript:" not in html
    assert "vbscript:" not in html
    assert "data:" not in html
    assert not re.search(r"<[^>]+\son\w+\s*=", html), html
    for tag in (
        "<iframe",
        "<object",
        "<embed",
        "<form",
        "<svg",
        "<style",
        "<meta",
        "<base",
        "<link",
        "<body",
    ):
        assert tag not in html, (tag, html)
    assert "글 앞" in html  # the text around a payload survives


def test_code_in_a_fence_is_shown_as_text() -> None:
    html = render_markdown("```html\n<script>alert(1)</script>\n```").html
    assert "<script" not in html
    assert '<span class="nt">script</span>' in html


def test_six_backtick_fence_with_language_keeps_inner_fences() -> None:
    source = "``````python\nprint('바깥')\n```\nnot the end\n``````\n\nafter"
    html = render_markdown(source).html
    assert '<div class="highlight">' in html
    assert '<span class="nb">print</span>' in html  # Pygments token classes
    code, _, rest = html.partition("</code></pre></div>")
    assert '<span class="n">end</span>' in code  # the inner ``` did not close it
    assert "<p>after</p>" in rest


def test_tables_and_footnotes_render() -> None:
    html = render_markdown(
        "| 이름 | 값 |\n|:--|--:|\n| a | 1 |\n\n본문[^1]\n\n[^1]: 각주 내용"
    ).html
    assert "<table>" in html and '<td align="right">1</td>' in html
    assert 'href="#fn:1"' in html and 'id="fn:1"' in html and "각주 내용" in html


def test_korean_headings_get_ids_and_a_toc() -> None:
    rendered = render_markdown(
        "### 클러스터 사양\n\n글\n\n### 클러스터 구조\n\n#### 세부"
    )
    assert '<h3 id="클러스터-사양">' in rendered.html
    ids = [item["id"] for item in rendered.toc]
    assert ids == ["클러스터-사양", "클러스터-구조"]
    assert rendered.toc[1]["children"][0]["name"] == "세부"


def test_raw_image_tags_of_the_source_posts_are_kept() -> None:
    source = '<img alt="image" src="/images/8b20162b-dc8f-4532-99d4-068298c76931"/>'
    rendered = render_markdown(source)
    assert 'src="/images/8b20162b-dc8f-4532-99d4-068298c76931"' in rendered.html
    assert 'alt="image"' in rendered.html and 'loading="lazy"' in rendered.html
    assert [str(i) for i in rendered.image_ids] == [
        "8b20162b-dc8f-4532-99d4-068298c76931"
    ]


def test_image_ids_are_listed_once_in_order() -> None:
    a, b = (
        "10b72dbd-da9b-42ee-9e1c-8d721dcf35fc",
        "730b1afc-d3c2-4809-86cf-5cbe4956ae5f",
    )
    text = f"/images/{b} /images/{a} /images/{b}"
    assert [str(i) for i in image_ids_in(text)] == [b, a]


def test_reading_time_counts_korean_characters_and_english_words() -> None:
    assert reading_minutes("가" * 1000) == 2
    assert reading_minutes("word " * 460) == 2
    assert reading_minutes("") == 1


def test_derived_summary_is_prose_without_code_headings_or_footnotes() -> None:
    from posts.rendering import derive_summary

    html = render_markdown(
        "## 들어가며\n\n**굵**게 쓴 글[^1].\n\n"
        "```python\nprint(1)\n```\n\n다음 문단\n\n[^1]: 각주"
    ).html
    assert derive_summary(html) == "굵게 쓴 글. 다음 문단"


def test_inline_markup_does_not_split_words_for_search() -> None:
    assert "굵게" in render_markdown("**굵**게 쓴 글").text


def test_bodies_rendered_ahead_in_a_worker_process_come_out_the_same() -> None:
    sources = [
        "# 제목\n\n본문과 각주[^1].\n\n[^1]: 각주 내용\n",
        "```python\nprint('hi')\n```\n\n| a | b |\n|---|--:|\n| 1 | 2 |\n",
        '<img alt="x" src="/images/8b20162b-dc8f-4532-99d4-068298c76931"/>\n'
        "<script>alert(1)</script>\n",
    ]
    expected = [rendering.render_markdown(source) for source in sources]

    with rendering.rendered_ahead(sources):
        assert set(rendering._ahead) == set(sources)
        got = [rendering.render_markdown(source) for source in sources]
        # Each was handed out from the worker's batch, once.
        assert not rendering._ahead
        assert rendering.render_markdown("another body").html == ("<p>another body</p>")

    assert got == expected


def test_without_a_worker_process_bodies_are_rendered_in_place(monkeypatch) -> None:
    from concurrent.futures import ProcessPoolExecutor

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(ProcessPoolExecutor, "submit", refuse)
    source = "# 제목\n\n본문\n"
    with rendering.rendered_ahead([source]):
        assert not rendering._ahead
        assert rendering.render_markdown(source) == render_markdown(source)
