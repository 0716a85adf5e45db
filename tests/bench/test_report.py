"""The benchmark's parsing and report code, on captured wrk output (no load here)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bench import results
from bench.report import ratio, summarise
from bench.wrk import WrkParseError, parse_wrk, run_wrk

WRK_OK = """\
Running 1s test @ http://127.0.0.1:18777/
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.98ms    1.88ms  12.76ms   74.30%
    Req/Sec     1.38k   246.90     1.91k    72.73%
  Latency Distribution
     50%    2.66ms
     75%    3.74ms
     90%    5.24ms
     99%    9.39ms
  1516 requests in 1.10s, 277.03KB read
Requests/sec:   1378.00
Transfer/sec:    251.81KB
"""

WRK_ERRORS = """\
Running 10s test @ http://127.0.0.1:18777/missing
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   409.96us  100.22us    1.03s    89.29%
    Req/Sec     0.96k   360.23     1.48k    60.00%
  Latency Distribution
     50%  396.00us
     75%  433.00us
     90%  490.00us
     99%    1.20s
  9570 requests in 10.00s, 485.98KB read
  Socket errors: connect 0, read 3, write 1, timeout 2
  Non-2xx or 3xx responses: 957
Requests/sec:    957.00
Transfer/sec:    484.71KB
"""


def test_parse_wrk_reads_rate_percentiles_and_counts() -> None:
    result = parse_wrk(WRK_OK)
    assert result.requests_per_s == 1378.0
    assert result.requests == 1516
    assert result.duration_s == pytest.approx(1.10)
    assert result.p50_ms == pytest.approx(2.66)
    assert result.p99_ms == pytest.approx(9.39)
    assert result.errors == 0


def test_parse_wrk_converts_units_and_counts_socket_and_status_errors() -> None:
    result = parse_wrk(WRK_ERRORS)
    assert result.p50_ms == pytest.approx(0.396)
    assert result.p99_ms == pytest.approx(1200.0)
    assert result.socket_errors == 6
    assert result.non_2xx_3xx == 957
    assert result.errors == 963
    assert result.as_dict()["errors"] == 963


def test_parse_wrk_rejects_output_without_a_latency_distribution() -> None:
    truncated = WRK_OK.split("  Latency Distribution")[0]
    with pytest.raises(WrkParseError):
        parse_wrk(truncated)


def test_run_wrk_refuses_targets_off_loopback() -> None:
    with pytest.raises(ValueError, match="loopback"):
        run_wrk("http://10.0.0.1:80/", duration_s=1)


def test_summary_takes_medians_and_ratios_compare_medians() -> None:
    fast = parse_wrk(WRK_OK)
    slow = parse_wrk(WRK_ERRORS)
    a = summarise("a", "A", [fast, slow, fast])
    b = summarise("b", "B", [slow, slow, fast])
    assert a.rps == 1378.0
    assert b.rps == 957.0
    assert a.errors == 963
    assert ratio({"a": a, "b": b}, "a", "b") == pytest.approx(1378 / 957)
    assert ratio({"a": a}, "a", "missing") is None


def _out() -> dict[str, Any]:
    fast, slow = parse_wrk(WRK_OK), parse_wrk(WRK_ERRORS)
    cases = {
        "bare-daphne-post": ("bare ASGI app, daphne, post page (ceiling)", [fast] * 3),
        "cached-post": ("post, cached (daphne)", [fast, fast, slow]),
        "uncached-post": ("post, uncached (daphne)", [slow] * 3),
    }
    summary = {
        n: summarise(n, label, runs).as_dict() for n, (label, runs) in cases.items()
    }
    return {
        "environment": {
            "date_utc": "2026-11-25T14:00:00+00:00",
            "cpu": "Test CPU",
            "cores": 2,
            "memory_gib": 24,
            "kernel": "6.1",
            "python": "3.11.7",
            "packages": {"Django": "5.2.19"},
            "wrk": "wrk 4.1.0",
            "nginx": "1.22.1",
            "redis": "7.0.15",
            "mariadb": "10.11",
            "git": {"commit": "0123456789abcdef", "dirty": False},
            "loadavg_at_start": [0.5, 0.5, 0.5],
        },
        "config": {
            "quick": True,
            "duration_s": 2,
            "rounds": 3,
            "wrk": "wrk -t1 -c32 --latency",
            "command": "scripts/bench.sh --quick",
        },
        "urls": {"home": "/", "post": "/posts/k8s/seed/"},
        "queries": {
            "small": {
                "posts": 10,
                "pages": {"/posts/k8s/seed/": {"queries": 3, "status": 200}},
            },
            "big": {
                "posts": 1000,
                "pages": {"/posts/k8s/seed/": {"queries": 3, "status": 200}},
            },
            "small_urls": {"post": "/posts/k8s/seed/"},
        },
        "http": {
            "page_bytes": 28000,
            "summary": summary,
            "checks": {},
            "redis": {
                "during": {
                    "warm:daphne-cached": {
                        "daphne-cached": {"min": 2, "max": 2, "samples": 2}
                    },
                    "load:daphne-cached": {
                        "daphne-cached": {"min": 2, "max": 2, "samples": 9}
                    },
                },
                "after": {"per_server": {"daphne-cached": 2}},
            },
            "rss_mb": {"daphne-cached": {"before": 100.0, "after": 104.0}},
        },
        "dataset": {
            "posts": 1000,
            "images": 300,
            "categories": 20,
            "import_s": 42.0,
            "import_exit": 0,
        },
    }


def test_targets_say_met_missed_or_not_measured() -> None:
    targets = {t.name: t for t in results.evaluate(_out())}
    name = "Cached public pages vs bare ASGI on daphne (same bytes per page)"
    assert targets[name].status == "met"
    assert targets["Uncached post page SQL queries"].status == "met"
    assert targets["Redis connections per process under load"].status == "met"
    assert targets["Import of 1,000 Markdown posts with 300 images"].status == "met"
    assert targets["Cached pages p99 at -c32"].status == "met"
    assert targets["Cached post vs Wagtail with wagtail-cache"].status == "not measured"


def test_each_cached_page_is_compared_with_the_ceiling_serving_that_page() -> None:
    out = _out()
    fast, slow = parse_wrk(WRK_OK), parse_wrk(WRK_ERRORS)
    for name, runs in (("cached-feed", [slow] * 3), ("bare-daphne-feed", [slow] * 3)):
        out["http"]["summary"][name] = summarise(name, name, runs).as_dict()
    targets = {t.name: t for t in results.evaluate(out)}
    same_bytes = targets[
        "Cached public pages vs bare ASGI on daphne (same bytes per page)"
    ]
    # The feed is as fast as the bare app serving the feed, however slower
    # than the bare app serving the (smaller) post page.
    assert "feed 1.00×" in same_bytes.measured
    assert same_bytes.status == "met"
    assert fast.requests_per_s > slow.requests_per_s


def test_growing_redis_connections_are_reported_as_missed() -> None:
    out = _out()
    out["http"]["redis"]["during"]["load:daphne-cached"]["daphne-cached"] = {
        "min": 2,
        "max": 80,
        "samples": 9,
    }
    targets = {t.name: t for t in results.evaluate(out)}
    assert targets["Redis connections per process under load"].status == "missed"


def test_report_is_written_with_tables_and_the_command(tmp_path: Path) -> None:
    cfg = SimpleNamespace(
        out_md=tmp_path / "RESULTS.md", out_json=tmp_path / "results.json"
    )
    results.write(cfg, _out())
    text = cfg.out_md.read_text()
    assert "`scripts/bench.sh --quick`" in text
    assert "| post, cached (daphne) | 1,378 |" in text
    assert "cached post / uncached post (daphne): **1.44×**" in text
    assert "| post | `/posts/k8s/seed/` | 3 | 3 |" in text
    assert '"commit": "0123456789abcdef"' in cfg.out_json.read_text()
