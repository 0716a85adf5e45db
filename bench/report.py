"""Turning repeated runs into medians, ratios and bench/RESULTS.md.

Absolute figures on a shared 2-core machine drift between runs, so the
report leads with ratios between cases measured in the same run, each
case's figure being the median of its interleaved repeats.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bench.wrk import WrkResult

# The pages the bare app replays, each its own ceiling: a cached page is
# compared with the bare app on daphne sending that page's bytes and headers.
CEILING_PAGES = ("home", "post", "category", "feed", "search", "image")


def ceiling_of(case_name: str) -> str:
    """The bare-daphne case serving the same page as `case_name` (else the post)."""
    for key in CEILING_PAGES:
        if case_name.endswith(f"-{key}"):
            return f"bare-daphne-{key}"
    return "bare-daphne-post"


@dataclass(frozen=True, slots=True)
class CaseSummary:
    name: str
    label: str
    runs: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    rps_all: tuple[float, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "runs": self.runs,
            "rps_median": self.rps,
            "p50_ms_median": self.p50_ms,
            "p99_ms_median": self.p99_ms,
            "errors": self.errors,
            "rps_all": list(self.rps_all),
        }


def summarise(name: str, label: str, runs: Sequence[WrkResult]) -> CaseSummary:
    if not runs:
        raise ValueError(f"no runs for {name}")
    return CaseSummary(
        name=name,
        label=label,
        runs=len(runs),
        rps=statistics.median(r.requests_per_s for r in runs),
        p50_ms=statistics.median(r.p50_ms for r in runs),
        p99_ms=statistics.median(r.p99_ms for r in runs),
        errors=sum(r.errors for r in runs),
        rps_all=tuple(r.requests_per_s for r in runs),
    )


def ratio(summaries: Mapping[str, CaseSummary], a: str, b: str) -> float | None:
    """req/s of case a over case b, or None when either was not measured."""
    if a not in summaries or b not in summaries or summaries[b].rps <= 0:
        return None
    return summaries[a].rps / summaries[b].rps


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    goal: str
    measured: str
    status: str  # "met", "missed" or "not measured"


def target(
    name: str, goal: str, value: float | None, ok: bool | None, fmt: str
) -> Target:
    if value is None or ok is None:
        return Target(name, goal, "—", "not measured")
    return Target(name, goal, fmt.format(value), "met" if ok else "missed")


def fmt_rps(value: float) -> str:
    return f"{value:,.0f}"


def fmt_ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = [
        "| " + " | ".join(headers) + " |",
        "| " + " | ".join("---" for _ in headers) + " |",
    ]
    for row in rows:
        lines.append("| " + " | ".join(str(cell) for cell in row) + " |")
    return "\n".join(lines)


def http_table(summaries: Mapping[str, CaseSummary]) -> str:
    """Every case, with its req/s over its own page's ceiling."""
    rows = []
    for s in summaries.values():
        ceiling = ceiling_of(s.name)
        rows.append(
            [
                s.label,
                fmt_rps(s.rps),
                f"{s.p50_ms:.2f}",
                f"{s.p99_ms:.2f}",
                s.errors,
                fmt_ratio(ratio(summaries, s.name, ceiling)),
                " / ".join(fmt_rps(v) for v in s.rps_all),
            ]
        )
    return markdown_table(
        [
            "case",
            "req/s (median)",
            "p50 ms",
            "p99 ms",
            "errors",
            "vs its page's bare ASGI app on daphne",
            "req/s of each run",
        ],
        rows,
    )


def targets_table(targets: Sequence[Target]) -> str:
    return markdown_table(
        ["target", "goal", "measured (this run)", "status"],
        [[t.name, t.goal, t.measured, f"**{t.status}**"] for t in targets],
    )
