"""Korean-aware full-text search on MariaDB without an n-gram parser.

MariaDB's FULLTEXT tokenizer splits on spaces and punctuation, so the word
`네임스페이스를` never matches a search for `네임스페이스`, and InnoDB skips
tokens shorter than `innodb_ft_min_token_size` (3 by default), which would
drop every two-syllable bigram. So the text is tokenised here, at save time:

* a run of Hangul/CJK/kana becomes its overlapping bigrams plus its last
  syllable (`네임스페이스` -> 네임 임스 스페 페이 이스 스);
* any other word (Latin letters, digits) becomes one lower-cased token.

Each token is stored hex-encoded behind a one-letter kind (`g` for grams,
`w` for words): ASCII only, at least 3 characters, never an InnoDB stopword,
and the same whatever the column's collation. A query is tokenised the same
way and sent in BOOLEAN MODE: each search word must be present (`+`), and a
Korean word is a phrase of its bigrams, which the index matches only when
they are adjacent, that is, when the word occurs as a substring.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

_CJK = (
    "\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff"
)
_RUN_RE = re.compile(rf"([{_CJK}]+)|([^\W_{_CJK}]+)")
# InnoDB's innodb_ft_max_token_size is 84 characters: 1 kind letter + hex.
_MAX_WORD_BYTES = 40
_QUERY_PHRASE_RE = re.compile(r'"([^"]*)"|(\S+)')


def _hex(text: str, kind: str) -> str:
    return kind + text.encode("utf-8")[:_MAX_WORD_BYTES].hex()


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _runs(text: str) -> Iterator[tuple[bool, str]]:
    for match in _RUN_RE.finditer(normalize(text)):
        if match.group(1):
            yield True, match.group(1)
        else:
            yield False, match.group(2)


def _gram_tokens(run: str, *, last: bool = True) -> list[str]:
    grams = [_hex(run[i : i + 2], "g") for i in range(len(run) - 1)]
    if last or len(run) == 1:
        grams.append(_hex(run[-1], "g"))
    return grams


def tokens(text: str) -> list[str]:
    """The index tokens of `text`, in order (stored space-separated)."""
    out: list[str] = []
    for is_cjk, run in _runs(text):
        out.extend(_gram_tokens(run) if is_cjk else [_hex(run, "w")])
    return out


def index_text(text: str) -> str:
    return " ".join(tokens(text))


def _term(text: str) -> str | None:
    """One boolean-mode term for a search word or a quoted phrase."""
    runs = list(_runs(text))
    if not runs:
        return None
    if len(runs) == 1:
        is_cjk, run = runs[0]
        if not is_cjk:
            # A prefix search, so `kustom` finds `kustomize`.
            return f"+{_hex(run, 'w')}*"
        if len(run) == 1:
            return f"+{_hex(run, 'g')}*"
    parts: list[str] = []
    for position, (is_cjk, run) in enumerate(runs):
        if is_cjk:
            # The phrase's last run may carry a particle in the text
            # (`네임스페이스를`), so it does not have to end there.
            parts.extend(_gram_tokens(run, last=position < len(runs) - 1))
        else:
            parts.append(_hex(run, "w"))
    return '+"' + " ".join(parts) + '"'


@dataclass(frozen=True)
class Query:
    raw: str
    boolean: str
    words: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.boolean)


def parse_query(raw: str) -> Query:
    """Turn what a visitor typed into a BOOLEAN MODE query and the words to mark."""
    raw = (raw or "").strip()[:200]
    terms: list[str] = []
    words: list[str] = []
    for match in _QUERY_PHRASE_RE.finditer(raw):
        phrase = match.group(1) if match.group(1) is not None else match.group(2)
        term = _term(phrase)
        if term:
            terms.append(term)
            words.append(" ".join(run for _, run in _runs(phrase)))
    return Query(raw=raw, boolean=" ".join(terms[:16]), words=tuple(words[:16]))


def highlight(text: str, words: tuple[str, ...], *, width: int = 180) -> SafeString:
    """A window of `text` around the first matched word, matches in <mark>."""
    text = html.unescape(text)
    folded = normalize(text)
    # NFKC/casefold may change lengths (rare: ligatures, full-width forms);
    # then fall back to matching on the original text.
    haystack = folded if len(folded) == len(text) else text.lower()
    patterns = [re.escape(w).replace(r"\ ", r"\s+") for w in words if w]
    if not patterns:
        return mark_safe(escape(text[:width]))  # noqa: S308
    pattern = re.compile("|".join(sorted(patterns, key=len, reverse=True)))
    first = pattern.search(haystack)
    start = max(0, (first.start() if first else 0) - width // 3)
    end = min(len(text), start + width)
    out: list[str] = ["…" if start else ""]
    cursor = start
    for match in pattern.finditer(haystack, start, end):
        out.append(escape(text[cursor : match.start()]))
        out.append(f"<mark>{escape(text[match.start() : match.end()])}</mark>")
        cursor = match.end()
    out.append(escape(text[cursor:end]))
    out.append("…" if end < len(text) else "")
    return mark_safe("".join(out))  # noqa: S308
