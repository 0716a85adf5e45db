"""Smoke test of the atheris fuzz target (the long run is on demand, see
SECURITY.md), and proof that the shared property checks can fail."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from tests.security import fuzz_sanitiser
from tests.security.sanitiser_checks import assert_inert
from tests.security.xss_corpus import payloads

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<svg><a xlink:href="javascript:alert(1)">x</a></svg>',
        '<a href="java&#x09;script:alert(1)">x</a>',
        '<a href=" JAVASCRIPT:alert(1)">x</a>',
        '<img srcset="a.png 1x, data:image/svg+xml,x 2x">',
        '<form action="vbscript:x"><button formaction="data:x">b</button></form>',
    ],
)
def test_the_checks_reject_live_html(html: str) -> None:
    with pytest.raises(AssertionError):
        assert_inert(html)


def test_the_checks_accept_escaped_prose_and_allowed_links() -> None:
    assert_inert(
        '<p>&lt;a href="javascript:alert(1)"&gt;</p>'
        '<a href="/images/x" title="a &gt; b">in</a><a href="https://x.org/">out</a>'
        '<a href="mailto:x@example.org">mail</a><a href="#fn:1">note</a>'
    )


def test_every_corpus_payload_passes_the_fuzz_target() -> None:
    for payload in payloads():
        fuzz_sanitiser.check_sanitize(payload)
        fuzz_sanitiser.check_render(payload)
    # The byte decoder reaches the corpus: random inputs splice its payloads in.
    rng = random.Random(1)  # noqa: S311 - reproducible inputs, not secrets
    inputs = [rng.randbytes(64) for _ in range(300)]
    for data in inputs:
        fuzz_sanitiser.test_one_input(data)
    sources = [fuzz_sanitiser.source_from(data) for data in inputs]
    assert sum(any(p in s for p in payloads()) for s in sources) > 30


def test_a_carriage_return_reference_survives_sanitising_twice() -> None:
    """The fuzz target's first find: `&#xD` came out as a bare CR, which the
    second pass turned into a newline."""
    fuzz_sanitiser.check_sanitize("&#xD")
    fuzz_sanitiser.check_sanitize("<p title='a&#13;b'>x&#xd;y\r\nz</p>")


def test_the_on_demand_fuzz_command_runs_clean() -> None:
    """The documented command, shortened: libFuzzer drives the target under
    atheris' coverage instrumentation and finds nothing."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.security.fuzz_sanitiser",
            "-atheris_runs=1500",
            "-seed=1",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    done = [line for line in result.stderr.splitlines() if line.startswith("Done ")]
    print(f"fuzz smoke: {done[-1] if done else result.stderr[-300:]}")
    assert done and done[-1].startswith("Done 1500 ")
