"""Atheris fuzz target for the Markdown pipeline and its sanitiser.

Run on demand (not part of the suite, which only smoke-tests it):

    .venv/bin/python -m tests.security.fuzz_sanitiser -atheris_runs=100000

Any libFuzzer flag works (`-max_total_time=600`, `-jobs=2`, a corpus
directory as the last argument to keep what it finds). Each input is cut into
a mix of XSS fragments, payloads from `xss_payloads.txt` and raw Unicode,
then checked with the same properties as the hypothesis tests
(`sanitiser_checks`): output inert, sanitising idempotent. A failure prints
the input and writes a `crash-*` file that reproduces it when passed as the
only argument.
"""

from __future__ import annotations

import contextlib
import sys

import atheris

# Coverage feedback from the pure-Python Markdown parser and our own code
# (nh3 is compiled Rust and runs uninstrumented). Only when run as the
# fuzzer: the suite imports this module for a smoke test.
with (
    atheris.instrument_imports(include=["markdown", "posts", "tests.security"])
    if __name__ == "__main__"
    else contextlib.nullcontext()
):
    from tests.security.sanitiser_checks import (
        FRAGMENTS,
        check_render,
        check_sanitize,
    )
    from tests.security.xss_corpus import payloads

PIECES = (*FRAGMENTS, *payloads())


def source_from(data: bytes) -> str:
    """Turn fuzzer bytes into hostile Markdown/HTML, deterministically."""
    provider = atheris.FuzzedDataProvider(data)
    parts: list[str] = []
    for _ in range(provider.ConsumeIntInRange(0, 12)):
        if provider.ConsumeBool():
            parts.append(PIECES[provider.ConsumeIntInRange(0, len(PIECES) - 1)])
        else:
            parts.append(provider.ConsumeUnicodeNoSurrogates(16))
    return "".join(parts)


def test_one_input(data: bytes) -> None:
    source = source_from(data)
    check_sanitize(source)
    check_render(source)


def main(argv: list[str]) -> None:
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
