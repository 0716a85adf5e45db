"""Running wrk and reading its report.

wrk prints a human report; `parse_wrk` turns it into numbers. Errors count
both socket errors and non-2xx/3xx answers, because a fast 429 or 500 is not
a page served.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import asdict, dataclass
from typing import Any

_UNITS_S = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_LATENCY_LINE = re.compile(r"^\s*(50|75|90|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.M)
_REQS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
_TOTAL = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h),", re.M)
_SOCKET = re.compile(
    r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)"
)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")


class WrkParseError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class WrkResult:
    requests_per_s: float
    requests: int
    duration_s: float
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    socket_errors: int
    non_2xx_3xx: int

    @property
    def errors(self) -> int:
        return self.socket_errors + self.non_2xx_3xx

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "errors": self.errors}


def _seconds(value: str, unit: str) -> float:
    return float(value) * _UNITS_S[unit]


def parse_wrk(output: str) -> WrkResult:
    """Numbers from `wrk --latency` output; raises WrkParseError if it has none."""
    reqs = _REQS.search(output)
    total = _TOTAL.search(output)
    latencies = {
        int(m.group(1)): _seconds(m.group(2), m.group(3)) * 1000
        for m in _LATENCY_LINE.finditer(output)
    }
    if not reqs or not total or set(latencies) != {50, 75, 90, 99}:
        raise WrkParseError(f"not a wrk --latency report:\n{output[-2000:]}")
    socket = _SOCKET.search(output)
    non_2xx = _NON_2XX.search(output)
    return WrkResult(
        requests_per_s=float(reqs.group(1)),
        requests=int(total.group(1)),
        duration_s=_seconds(total.group(2), total.group(3)),
        p50_ms=latencies[50],
        p75_ms=latencies[75],
        p90_ms=latencies[90],
        p99_ms=latencies[99],
        socket_errors=sum(map(int, socket.groups())) if socket else 0,
        non_2xx_3xx=int(non_2xx.group(1)) if non_2xx else 0,
    )


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError(
            "wrk not found: run scripts/bench.sh (installs Debian's wrk)"
        )
    return found


def run_wrk(
    url: str,
    *,
    duration_s: int,
    connections: int = 32,
    threads: int = 1,
    timeout_s: int = 5,
) -> WrkResult:
    """One bounded wrk run against a loopback URL."""
    if not url.startswith(("http://127.0.0.1:", "http://localhost:")):
        raise ValueError(f"load goes to loopback only, not {url}")
    cmd = [
        wrk_binary(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration_s}s",
        f"--timeout={timeout_s}s",
        "--latency",
        url,
    ]
    done = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=duration_s + timeout_s + 30,
        check=False,
    )
    if done.returncode != 0:
        raise WrkParseError(f"wrk failed ({done.returncode}): {done.stderr}")
    return parse_wrk(done.stdout)
