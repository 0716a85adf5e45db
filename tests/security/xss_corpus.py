"""The XSS payload corpus in `xss_payloads.txt` (format in its header)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

PAYLOADS_FILE = Path(__file__).with_name("xss_payloads.txt")
_ESCAPE = re.compile(r"\\(n|t|r|f|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4})")
_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "f": "\f"}


def _unescape(line: str) -> str:
    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        return _SIMPLE.get(code) or chr(int(code[1:], 16))

    return _ESCAPE.sub(one, line)


@cache
def payloads() -> tuple[str, ...]:
    lines = PAYLOADS_FILE.read_text(encoding="utf-8").split("\n")
    start = lines.index("") + 1  # the comment header ends at the first blank line
    return tuple(_unescape(line) for line in lines[start:] if line.strip())
