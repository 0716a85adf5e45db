"""Soak: minutes of page load plus WebSocket connect/disconnect churn.

Two daphne replicas (production settings, ASGI page cache on) share Redis
and MariaDB. On each replica, wrk cycles through the public pages (a Lua
script rotates the paths, so the page cache, the Django path for search and
the feeds all stay busy) while a churn task keeps opening chat connections:
each says hello, sometimes sends a message, and leaves after a short random
life, so consumers, presence entries and channel-layer subscriptions are
created and torn down all the time.

The first WARMUP share of the run fills caches, pools and lazy imports; its
last sample is the baseline. Every SAMPLE_S the run records each replica's
RSS and its Redis connections (`CLIENT LIST`, by owning port). After the
load stops, the churn's sockets have closed and the pools' idle timeout has
passed, a final sample shows whether Redis connections went back to the
baseline. Nothing here asserts: the
report states the growth and whether it meets the issue's target.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.procs import Proc, daphne
from bench.redis_watch import RedisWatch
from bench.report import markdown_table
from bench.wrk import WrkParseError, parse_wrk, wrk_binary

SAMPLE_S = 10.0
# Python's heap and the caches grow for the first few minutes of load and
# then stay flat (seen in a 10-minute run: flat from about minute 3), so the
# baseline is taken after that.
WARMUP = 0.3
CHURN_CONCURRENCY = 20
RSS_TARGET = 0.10
ROOM = "lobby"
# The replicas' REDIS_IDLE_CLOSE_SECONDS (the default); the final sample is
# taken once it has passed after the load.
IDLE_CLOSE_S = 30

# wrk's Lua hook: each request takes the next path of the rotation.
ROTATE_LUA = """
paths = {%s}
i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
failed = {}
response = function(status, headers, body)
  if status >= 400 then
    failed[status] = (failed[status] or 0) + 1
  end
end
threads = {}
setup = function(thread)
  table.insert(threads, thread)
end
done = function(summary, latency, requests)
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get("failed")) do
      io.write(string.format("status %%d: %%d\n", code, n))
    end
  end
end
"""


def _lua_list(paths: list[str]) -> str:
    return ", ".join(json.dumps(p) for p in paths)


def _wrk(url: str, script: Path, seconds: int, connections: int) -> dict[str, Any]:
    done = subprocess.run(
        [
            wrk_binary(),
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout=5s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=False,
    )
    try:
        result = parse_wrk(done.stdout).as_dict()
    except WrkParseError as exc:
        return {"error": str(exc)[-500:]}
    # Failed answers by status, from the Lua script's tally.
    result["failed_by_status"] = {
        code: int(n)
        for code, n in re.findall(r"^status (\d+): (\d+)$", done.stdout, re.M)
    }
    return result


async def _churn(
    urls: list[str], stop: threading.Event, counts: dict[str, int]
) -> None:
    """Keep CHURN_CONCURRENCY short-lived chat clients coming and going."""
    from websockets.asyncio.client import connect

    async def one_life(k: int) -> None:
        base = urls[k % len(urls)]
        try:
            async with connect(
                base.replace("http://", "ws://") + f"/ws/talk/{ROOM}/",
                origin=base,
                open_timeout=10,
                ping_interval=None,
            ) as ws:
                hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if hello.get("type") != "hello":
                    counts["errors"] += 1
                    return
                counts["connects"] += 1
                if random.random() < 0.3:  # noqa: S311 - load shape, not security
                    await ws.send(json.dumps({"type": "message", "text": f"soak {k}"}))
                    counts["messages"] += 1
                life = random.uniform(0.2, 3.0)  # noqa: S311
                deadline = time.monotonic() + life
                while time.monotonic() < deadline:
                    try:
                        await asyncio.wait_for(ws.recv(), deadline - time.monotonic())
                    except TimeoutError:
                        break
        except Exception:  # noqa: BLE001 - counted; the soak goes on
            counts["errors"] += 1

    async def worker(w: int) -> None:
        k = w
        while not stop.is_set():
            await one_life(k)
            k += CHURN_CONCURRENCY

    await asyncio.gather(*(worker(w) for w in range(CHURN_CONCURRENCY)))


def _rss_mb(pid: int) -> float:
    from bench.run import rss_mb

    return rss_mb(pid)


def fetch(url: str) -> tuple[int, bytes, dict[str, str]]:
    from bench.run import fetch as run_fetch

    return run_fetch(url)


def run(
    cfg: Any,
    env: dict[str, str],
    work: Path,
    procs: list[Proc],
    urls: dict[str, str],
    log: Callable[[str], None],
) -> dict[str, Any]:
    seconds = cfg.soak_seconds
    soak_env = {
        **env,
        "TALK_RATE_LIMIT_MESSAGES": "0",
        "TALK_RATE_LIMIT_IP_MESSAGES": "0",
        "REDIS_IDLE_CLOSE_SECONDS": str(IDLE_CLOSE_S),
    }
    replicas = [
        daphne(f"soak-{k}", "blog_site.asgi:application", soak_env, work)
        for k in ("a", "b")
    ]
    for proc in replicas:
        procs.append(proc.start(ready_path="/healthz"))
    paths = [p for k, p in sorted(urls.items()) if k != "image"]
    for path in paths:
        status, body, _ = fetch(replicas[0].url + path)
        log(f"soak check {path}: HTTP {status}, {len(body)} bytes")
    script = work / "soak-rotate.lua"
    script.write_text(ROTATE_LUA % _lua_list(paths))
    watch = RedisWatch(cfg.redis_url, cfg.redis_db, {p.name: [p.pid] for p in replicas})

    def sample(phase: str, t0: float) -> dict[str, Any]:
        redis_now = watch.sample()["per_server"]
        return {
            "t_s": round(time.monotonic() - t0, 1),
            "phase": phase,
            "rss_mb": {p.name: round(_rss_mb(p.pid), 1) for p in replicas},
            "redis": {p.name: redis_now.get(p.name, 0) for p in replicas},
        }

    t0 = time.monotonic()
    idle_before = sample("idle before", t0)
    stop = threading.Event()
    counts = {"connects": 0, "messages": 0, "errors": 0}
    churn = threading.Thread(
        target=lambda: asyncio.run(_churn([p.url for p in replicas], stop, counts)),
        daemon=True,
    )
    wrk_out: dict[str, Any] = {}
    loaders = [
        threading.Thread(
            target=lambda p=p: wrk_out.__setitem__(
                p.name, _wrk(p.url, script, seconds, 16)
            ),
            daemon=True,
        )
        for p in replicas
    ]
    log(f"soak: {seconds} s of pages ({len(paths)} paths) and chat churn")
    churn.start()
    for thread in loaders:
        thread.start()
    samples = [idle_before]
    warmup_end = t0 + seconds * WARMUP
    baseline: dict[str, Any] | None = None
    while any(t.is_alive() for t in loaders):
        time.sleep(SAMPLE_S)
        phase = "warm-up" if time.monotonic() < warmup_end else "load"
        samples.append(sample(phase, t0))
        if phase == "load" and baseline is None:
            baseline = samples[-2] if samples[-2]["phase"] == "warm-up" else samples[-1]
        last = samples[-1]
        log(
            f"soak t={last['t_s']:.0f}s rss {last['rss_mb']} redis {last['redis']} "
            f"ws {counts}"
        )
    stop.set()
    churn.join(timeout=30)
    # Closing handshakes and presence cleanup, then the pools' idle timeout:
    # a replica left alone lets go of what the load made it open.
    time.sleep(IDLE_CLOSE_S + 5)
    end_load = samples[-1]
    after = sample("after", t0)
    samples.append(after)
    for proc in replicas:
        proc.stop()
    baseline = baseline or samples[1]
    rows = []
    for p in replicas:
        base_rss = baseline["rss_mb"][p.name]
        rows.append(
            {
                "replica": p.name,
                "rss_baseline_mb": base_rss,
                "rss_end_mb": end_load["rss_mb"][p.name],
                "rss_max_mb": max(s["rss_mb"][p.name] for s in samples),
                "rss_growth": (end_load["rss_mb"][p.name] - base_rss) / base_rss
                if base_rss
                else None,
                "redis_idle_before": idle_before["redis"][p.name],
                "redis_baseline": baseline["redis"][p.name],
                "redis_max": max(s["redis"][p.name] for s in samples),
                "redis_after": after["redis"][p.name],
            }
        )
    return {
        "seconds": seconds,
        "paths": paths,
        "wrk": wrk_out,
        "websocket": counts,
        "samples": samples,
        "rows": rows,
        "markdown": markdown(rows, wrk_out, counts, seconds),
        "target": target(rows, seconds),
    }


def target(rows: list[dict[str, Any]], seconds: int) -> dict[str, str]:
    growths = [r["rss_growth"] for r in rows if r["rss_growth"] is not None]
    worst = max(growths) if growths else None
    back = all(r["redis_after"] <= r["redis_baseline"] for r in rows)
    measured = (
        "—"
        if worst is None
        else f"{seconds / 60:.0f} min: worst RSS growth {worst:+.1%} after warm-up; "
        "Redis connections after the run "
        + ", ".join(
            f"{r['replica']} {r['redis_after']} (baseline {r['redis_baseline']})"
            for r in rows
        )
    )
    full = seconds >= 600
    if worst is None:
        status = "not measured"
    elif not full:
        status = "not measured (shorter than 10 min)"
    else:
        status = "met" if worst <= RSS_TARGET and back else "missed"
    return {
        "name": "Soak (10 min pages + WebSocket churn)",
        "goal": "RSS growth ≤ 10%, Redis connections back to baseline",
        "measured": measured,
        "status": status,
    }


def markdown(
    rows: list[dict[str, Any]],
    wrk_out: dict[str, Any],
    counts: dict[str, int],
    seconds: int,
) -> str:
    table = markdown_table(
        [
            "replica",
            "RSS after warm-up MB",
            "RSS at end MB",
            "RSS max MB",
            "growth",
            "Redis conns idle before",
            "after warm-up",
            "max",
            "after the run",
        ],
        [
            [
                r["replica"],
                f"{r['rss_baseline_mb']:.0f}",
                f"{r['rss_end_mb']:.0f}",
                f"{r['rss_max_mb']:.0f}",
                "—" if r["rss_growth"] is None else f"{r['rss_growth']:+.1%}",
                r["redis_idle_before"],
                r["redis_baseline"],
                r["redis_max"],
                r["redis_after"],
            ]
            for r in rows
        ],
    )
    loads = "; ".join(
        f"{name}: {w.get('requests', 0):,} requests, {w.get('requests_per_s', 0):,.0f} req/s, "
        f"p99 {w.get('p99_ms', 0):.1f} ms, errors {w.get('errors', '?')} "
        f"{w.get('failed_by_status') or ''}"
        if "error" not in w
        else f"{name}: wrk failed"
        for name, w in sorted(wrk_out.items())
    )
    return (
        f"{seconds} s on two daphne replicas: wrk -c16 per replica rotating the public "
        f"pages, plus {CHURN_CONCURRENCY} chat clients at a time connecting, sometimes "
        "sending, and leaving after 0.2–3 s. RSS is the replica's process; the "
        f"baseline is the last sample of the first {WARMUP:.0%} of the run. Redis "
        "connections are those of the bench database owned by each replica; the "
        f"last column is sampled {IDLE_CLOSE_S + 5} s after the load stopped (the "
        f"pools close connections unused for {IDLE_CLOSE_S} s).\n\n"
        f"{table}\n\nLoad: {loads}. WebSocket lives: {counts['connects']:,} "
        f"(messages {counts['messages']:,}, failed {counts['errors']:,})."
    )
