"""Markdown to safe HTML, done once when a post is saved.

Python-Markdown renders (fenced code with Pygments classes, tables, footnotes,
Unicode heading ids for the table of contents, and raw HTML such as the
`<img alt src="/images/UUID"/>` tags the source blog's posts carry); nh3 then
keeps only an allowlist, so whatever an author pastes cannot run script.
"""

from __future__ import annotations

import html
import math
import multiprocessing
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

import markdown
import nh3
from markdown.extensions.toc import slugify_unicode

IMAGE_PATH_RE = re.compile(
    r"/images/([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
)
_IMG_TAG_RE = re.compile(r"<img\b[^>]*>")
_SRC_RE = re.compile(r'\ssrc="/images/([0-9a-f-]{36})"')
_TAG_RE = re.compile(r"<[^>]+>")
_BLOCK_TAG_RE = re.compile(
    r"</?(?:p|div|h[1-6]|li|ul|ol|pre|br|hr|tr|td|th|table|thead|tbody|blockquote"
    r"|dl|dt|dd|figure|figcaption|details|summary|img|sup)\b[^>]*>",
    re.IGNORECASE,
)
_NOT_PROSE_RE = re.compile(
    r"<(pre|h[1-6]|table|sup)\b.*?</\1>|<div class=\"footnote\">.*?</div>", re.DOTALL
)
_SPACE_RE = re.compile(r"\s+")
_CJK_RE = re.compile(
    r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u9fff\uac00-\ud7af]"
)
_WORD_RE = re.compile(r"[A-Za-z0-9]+")

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup",
    "dd", "del", "details", "div", "dl", "dt", "em", "figcaption", "figure",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li",
    "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strong",
    "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
    "tr", "u", "ul", "var",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "class", "id"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan", "scope"},
    "ol": {"start", "class"},
    "li": {"id", "class"},
    "sup": {"id", "class"},
    "div": {"class"},
    "span": {"class"},
    "pre": {"class"},
    "code": {"class"},
    "hr": {"class"},
    "h1": {"id"},
    "h2": {"id"},
    "h3": {"id"},
    "h4": {"id"},
    "h5": {"id"},
    "h6": {"id"},
}
# No javascript:, data: or vbscript: URLs; relative links (/images/...) pass.
URL_SCHEMES = {"http", "https", "mailto"}


@dataclass
class Rendered:
    html: str
    toc: list[dict[str, object]] = field(default_factory=list)
    text: str = ""
    image_ids: list[uuid.UUID] = field(default_factory=list)

    @property
    def reading_minutes(self) -> int:
        return reading_minutes(self.text)


def _markdown() -> markdown.Markdown:
    return markdown.Markdown(
        extensions=[
            "fenced_code",
            "codehilite",
            "tables",
            "footnotes",
            "toc",
            "sane_lists",
        ],
        extension_configs={
            "codehilite": {"css_class": "highlight", "guess_lang": False},
            "tables": {"use_align_attribute": True},
            "toc": {"slugify": slugify_unicode, "toc_depth": "1-4"},
            "footnotes": {"BACKLINK_TITLE": "본문으로 돌아가기 (%d)"},
        },
        output_format="html",
    )


def sanitize(raw_html: str) -> str:
    clean = nh3.clean(
        raw_html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        clean_content_tags={"script", "style"},
        link_rel="noopener noreferrer",
    )
    # `&#xD;` decodes to a bare carriage return, which the serialiser writes
    # as is and the next parse turns into a newline; keeping it a character
    # reference makes the output the same however often it is sanitised
    # (found by the fuzz target, tests/security/fuzz_sanitiser.py).
    return clean.replace("\r", "&#13;")


def _clean_toc(tokens: list[dict[str, object]]) -> list[dict[str, object]]:
    return [
        {
            "id": str(token["id"]),
            "name": html.unescape(str(token["name"])),
            "level": int(token["level"]),  # type: ignore[call-overload]
            "children": _clean_toc(token.get("children") or []),  # type: ignore[arg-type]
        }
        for token in tokens
    ]


def add_image_sizes(rendered_html: str, sizes: Mapping[str, tuple[int, int]]) -> str:
    """Lazy-load every image and give each known /images/UUID its intrinsic
    size, so the page never jumps while pictures arrive."""

    def fix(match: re.Match[str]) -> str:
        tag = match.group(0)[:-1].rstrip("/").rstrip()
        extra = ""
        src = _SRC_RE.search(tag)
        if src and src.group(1) in sizes and " width=" not in tag:
            width, height = sizes[src.group(1)]
            extra += f' width="{width}" height="{height}"'
        if " loading=" not in tag:
            extra += ' loading="lazy" decoding="async"'
        return f"{tag}{extra}>"

    return _IMG_TAG_RE.sub(fix, rendered_html)


def image_ids_in(text: str) -> list[uuid.UUID]:
    """Every /images/UUID the text refers to, in order, without repeats."""
    seen: dict[uuid.UUID, None] = {}
    for match in IMAGE_PATH_RE.finditer(text):
        seen.setdefault(uuid.UUID(match.group(1)), None)
    return list(seen)


def html_to_text(fragment: str) -> str:
    """Visible text: block boundaries become spaces, inline tags vanish (so
    `**굵**게` stays one word and Pygments' spans don't split code)."""
    text = _BLOCK_TAG_RE.sub(" ", fragment)
    text = _TAG_RE.sub("", text)
    return _SPACE_RE.sub(" ", html.unescape(text)).strip()


def derive_summary(rendered_html: str) -> str:
    """The summary shown when the author wrote none: prose only, no code or headings."""
    prose = _NOT_PROSE_RE.sub("", rendered_html)
    return summarize(html_to_text(prose))


def reading_minutes(text: str) -> int:
    """About 500 Korean characters or 230 English words a minute."""
    cjk = len(_CJK_RE.findall(text))
    words = len(_WORD_RE.findall(text))
    return max(1, math.ceil(cjk / 500 + words / 230))


def summarize(text: str, limit: int = 160) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,.·") + "…"


def render_markdown(source: str) -> Rendered:
    """Render and sanitise `source`; also return its outline, text and images."""
    ahead = _ahead.pop(source, None)
    if ahead is not None:
        try:
            return ahead.result()
        except Exception:  # noqa: BLE001, S110 - rendered again below, raising here
            pass
    return _render(source)


def _render(source: str) -> Rendered:
    md = _markdown()
    raw = md.convert(source)
    clean = sanitize(raw)
    return Rendered(
        html=add_image_sizes(clean, {}),
        toc=_clean_toc(getattr(md, "toc_tokens", [])),
        text=html_to_text(clean),
        image_ids=image_ids_in(source),
    )


# Python-Markdown is pure Python, so it holds the GIL: an import renders
# every body on the thread that also writes the rows. `rendered_ahead` has a
# worker process render the bodies meanwhile; `render_markdown` hands out a
# result only for exactly the same source text, so its output is unchanged.
_ahead: dict[str, Future[Rendered]] = {}


@contextmanager
def rendered_ahead(sources: Iterable[str]) -> Iterator[None]:
    """Render `sources` in a worker process while the block runs."""
    # spawn, not fork: a forked child would share the parent's database
    # and Redis sockets.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        mine = []
        try:
            for source in sources:
                if source not in _ahead:
                    _ahead[source] = pool.submit(_render, source)
                    mine.append(source)
        except (OSError, BrokenExecutor):
            # No process to be had (a pod at its process limit, say): what
            # was not handed out is rendered in this thread, as without it.
            pass
        try:
            yield
        finally:
            for source in mine:
                future = _ahead.pop(source, None)
                if future is not None:
                    future.cancel()
