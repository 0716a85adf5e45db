"""Chat fan-out under load: N WebSocket clients over two daphne replicas.

Clients speak the documented protocol (docs/talk-protocol.md) with the
`websockets` library, half of them on each replica, all in one room. A fixed
set of senders (half on each replica) sends at a fixed aggregate rate; every
message is delivered to every client (its sender included), so deliveries/s
= messages/s x N. Each message's text carries its sender, a per-sender
sequence number and its send time (one clock: all clients live in this
process), which gives per-delivery latency, duplicates and per-sender order.

After the senders stop, clients keep reading for a drain period: a delivery
that arrives after LATE_S is *late*, one that never arrives is *lost*; the
two are counted separately. Both channel layers are measured: the pub/sub
layer the site uses, and channels_redis' core layer (through
bench/settings_core_layer.py, which only swaps CHANNEL_LAYERS).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvloop

from bench.procs import Proc, daphne
from bench.report import markdown_table

LATE_S = 1.0
DRAIN_S = 20.0
SENDERS = 20
ROOM = "lobby"
ACK_EVERY = 32
LAYERS = {
    "pubsub": "blog_site.settings.base",
    "core": "bench.settings_core_layer",
}


@dataclass
class Delivery:
    receiver: int
    sender: int
    seq: int
    latency_s: float
    same_replica: bool


@dataclass
class ChatRun:
    """What one (layer, N, rate) case saw."""

    tag: str
    clients: int
    replica_of: dict[int, int]
    deliveries: list[Delivery] = field(default_factory=list)
    sent: dict[int, int] = field(default_factory=dict)
    send_started: float = 0.0
    send_ended: float = 0.0


def analyse(run: ChatRun) -> dict[str, Any]:
    """Delivery ratio, late, lost, duplicates, order violations and latency."""
    expected = sum(run.sent.values()) * run.clients
    seen: set[tuple[int, int, int]] = set()
    duplicates = 0
    last_seq: dict[tuple[int, int], int] = {}
    order_violations = 0
    on_time, late = 0, 0
    same: list[float] = []
    cross: list[float] = []
    for d in run.deliveries:
        key = (d.receiver, d.sender, d.seq)
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        pair = (d.receiver, d.sender)
        if pair in last_seq and d.seq < last_seq[pair]:
            order_violations += 1
        last_seq[pair] = max(d.seq, last_seq.get(pair, -1))
        if d.latency_s > LATE_S:
            late += 1
        else:
            on_time += 1
        (same if d.same_replica else cross).append(d.latency_s * 1000)
    delivered = len(seen)
    duration = max(run.send_ended - run.send_started, 1e-9)
    return {
        "clients": run.clients,
        "messages": sum(run.sent.values()),
        "deliveries_per_s_sent": sum(run.sent.values()) * run.clients / duration,
        "expected": expected,
        "delivered": delivered,
        "delivery_ratio": delivered / expected if expected else None,
        "on_time": on_time,
        "late": late,
        "lost": expected - delivered,
        "duplicates": duplicates,
        "order_violations": order_violations,
        "p50_ms": _pct(same + cross, 50),
        "p99_ms": _pct(same + cross, 99),
        "same_p50_ms": _pct(same, 50),
        "same_p99_ms": _pct(same, 99),
        "cross_p50_ms": _pct(cross, 50),
        "cross_p99_ms": _pct(cross, 99),
    }


def _pct(values: list[float], pct: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


_MESSAGE = '{"type":"message",'
_TEXT = '"text":"'


def _message_texts(raw: str) -> list[str]:
    """The texts of the `message` frames in a frame (a batch holds several).

    The client reads every delivery in one process on the same cores as the
    servers, so it skips json.loads for the frames it measures: the server
    sends them compact, `type` first, and the bench's texts need no escapes.
    Anything else is parsed properly.
    """
    if "\\" not in raw and (
        raw.startswith(_MESSAGE) or raw.startswith('{"type":"batch","frames":[')
    ):
        texts = []
        at = raw.find(_MESSAGE)
        while at != -1:
            start = raw.find(_TEXT, at)
            if start == -1:
                break
            start += len(_TEXT)
            end = raw.find('"', start)
            texts.append(raw[start:end])
            at = raw.find(_MESSAGE, end)
        else:
            return texts
    frame = json.loads(raw)
    frames = frame["frames"] if frame.get("type") == "batch" else [frame]
    return [f["text"] for f in frames if f.get("type") == "message"]


class Swarm:
    """N connected clients and their reader tasks."""

    def __init__(self, urls: list[str], n: int) -> None:
        self.urls = urls
        self.n = n
        self.sockets: dict[int, Any] = {}
        self.replica_of = {i: i % len(urls) for i in range(n)}
        self.readers: list[asyncio.Task[None]] = []
        self.run: ChatRun | None = None
        self.last_frame = time.monotonic()
        self.frames = 0

    async def connect(self, concurrency: int = 25) -> None:
        from websockets.asyncio.client import connect

        gate = asyncio.Semaphore(concurrency)

        async def one(i: int) -> None:
            base = self.urls[self.replica_of[i]]
            async with gate:
                ws = await connect(
                    base.replace("http://", "ws://") + f"/ws/talk/{ROOM}/?batch=1",
                    origin=base,
                    compression=None,
                    max_queue=None,
                    open_timeout=30,
                    ping_interval=None,
                )
                hello = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if hello.get("type") != "hello":
                    raise RuntimeError(f"expected hello, got {hello}")
            self.sockets[i] = ws
            self.readers.append(asyncio.create_task(self._read(i, ws)))

        await asyncio.gather(*(one(i) for i in range(self.n)))

    async def _read(self, i: int, ws: Any) -> None:
        replica = self.replica_of[i]
        # Frames on this connection (the hello counted), acknowledged every
        # ACK_EVERY as the protocol asks, or the server drops the client as
        # too slow (close 4408).
        received = 1
        try:
            async for raw in ws:
                now = time.monotonic()
                self.last_frame = now
                self.frames += 1
                received += 1
                if received % ACK_EVERY == 0:
                    await ws.send(f'{{"type":"ack","count":{received}}}')
                run = self.run
                if run is None or run.tag not in raw:
                    continue
                for text in _message_texts(raw):
                    tag, sender, seq, sent_at = text.split("|")
                    if tag != run.tag:
                        continue
                    sender_i = int(sender)
                    run.deliveries.append(
                        Delivery(
                            receiver=i,
                            sender=sender_i,
                            seq=int(seq),
                            latency_s=now - float(sent_at),
                            same_replica=self.replica_of[sender_i] == replica,
                        )
                    )
        except Exception:  # noqa: BLE001 - a dropped client shows up as lost deliveries
            return

    async def quiet(self, for_s: float = 1.0, limit_s: float = 120.0) -> float:
        """Wait until no frame has arrived for `for_s` (the join storm is over)."""
        start = time.monotonic()
        while time.monotonic() - start < limit_s:
            if time.monotonic() - self.last_frame >= for_s:
                break
            await asyncio.sleep(0.2)
        return time.monotonic() - start

    async def send_at_rate(
        self, tag: str, deliveries_per_s: int, duration_s: float
    ) -> ChatRun:
        messages_per_s = deliveries_per_s / self.n
        senders = [i for i in range(min(SENDERS, self.n))]
        per_sender_interval = len(senders) / messages_per_s
        count = max(1, int(duration_s / per_sender_interval))
        run = ChatRun(tag=tag, clients=self.n, replica_of=self.replica_of)
        run.sent = {s: 0 for s in senders}
        self.run = run
        start = time.monotonic() + 0.2
        run.send_started = start

        async def sender(s: int, offset: float) -> None:
            ws = self.sockets[s]
            for k in range(count):
                delay = start + offset + k * per_sender_interval - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                text = f"{tag}|{s}|{k}|{time.monotonic():.6f}"
                await ws.send(json.dumps({"type": "message", "text": text}))
                run.sent[s] += 1

        await asyncio.gather(
            *(
                sender(s, per_sender_interval * j / len(senders))
                for j, s in enumerate(senders)
            )
        )
        run.send_ended = time.monotonic()
        # Drain: read until the room has been quiet for a second (a backlog
        # keeps arriving late), at most DRAIN_S; what is still missing is lost.
        await asyncio.sleep(0.5)
        await self.quiet(for_s=1.0, limit_s=DRAIN_S)
        self.run = None
        return run

    async def close(self) -> None:
        await asyncio.gather(
            *(ws.close() for ws in self.sockets.values()), return_exceptions=True
        )
        for task in self.readers:
            task.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)


async def _layer_cases(
    urls: list[str],
    plan: list[tuple[int, list[int]]],
    duration_s: float,
    layer: str,
    log: Callable[[str], None],
) -> list[dict[str, Any]]:
    results = []
    for n, rates in plan:
        swarm = Swarm(urls, n)
        t0 = time.monotonic()
        try:
            await swarm.connect()
            settle = await swarm.quiet()
            log(
                f"chat {layer}: {n} clients connected in {time.monotonic() - t0:.1f} s "
                f"(quiet after {settle:.1f} s)"
            )
            for rate in rates:
                tag = f"b{layer[0]}{n}r{rate}t{int(time.time())}"
                run = await swarm.send_at_rate(tag, rate, duration_s)
                row = {"layer": layer, "target_deliveries_per_s": rate, **analyse(run)}
                results.append(row)
                log(
                    f"chat {layer} N={n} {rate:>6}/s: delivered "
                    f"{row['delivery_ratio']:.4%}, late {row['late']}, lost {row['lost']}, "
                    f"dup {row['duplicates']}, order {row['order_violations']}, "
                    f"p50 {_ms(row['p50_ms'])} p99 {_ms(row['p99_ms'])} "
                    f"(same {_ms(row['same_p99_ms'])} / cross {_ms(row['cross_p99_ms'])} p99)"
                )
                await swarm.quiet(for_s=0.5, limit_s=10)
        except Exception as exc:  # noqa: BLE001 - recorded in the report
            log(f"chat {layer} N={n} failed: {exc!r}")
            results.append({"layer": layer, "clients": n, "error": repr(exc)})
        finally:
            await swarm.close()
            await asyncio.sleep(1)
    return results


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} ms"


def run(
    cfg: Any,
    env: dict[str, str],
    work: Path,
    procs: list[Proc],
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Every chat case; returns rows, Markdown and the chat targets."""
    if cfg.quick:
        layers = ["pubsub"]
        plan = [(100, [10_000]), (500, [10_000])]
        duration = 3.0
    else:
        layers = ["pubsub", "core"]
        plan = [(100, [1_000, 10_000]), (500, [2_500, 10_000])]
        duration = 8.0
    plan = cfg.chat_plan or plan
    layers = cfg.chat_layers or layers
    chat_env = {
        **env,
        # One address sends everything: the per-IP and per-connection limits
        # would refuse the load itself (0 turns a limit off).
        "TALK_RATE_LIMIT_MESSAGES": "0",
        "TALK_RATE_LIMIT_IP_MESSAGES": "0",
    }
    rows: list[dict[str, Any]] = []
    for layer in layers:
        layer_env = {**chat_env, "DJANGO_SETTINGS_MODULE": LAYERS[layer]}
        # As the Dockerfile runs them (blog_site.serve: the frozen heap, no
        # access log), like the HTTP cases; plain daphne's full GC passes over
        # Django's heap cost tens of ms each.
        replicas = [
            daphne(
                f"chat-{layer}-{k}",
                "blog_site.asgi:application",
                layer_env,
                work,
                serve=True,
            )
            for k in ("a", "b")
        ]
        for proc in replicas:
            procs.append(proc.start(ready_path="/healthz"))
        try:
            # uvloop: the clients share the 2 cores with the replicas, so the
            # cheaper their loop, the less of the measurement is the client.
            rows += uvloop.run(
                _layer_cases([p.url for p in replicas], plan, duration, layer, log)
            )
        finally:
            for proc in replicas:
                proc.stop()
    return {
        "rows": rows,
        "duration_s": duration,
        "late_s": LATE_S,
        "drain_s": DRAIN_S,
        "senders": SENDERS,
        "markdown": markdown(rows, duration),
        "targets": targets(rows),
    }


def markdown(rows: list[dict[str, Any]], duration: float) -> str:
    table = markdown_table(
        [
            "layer",
            "clients",
            "deliveries/s (sent)",
            "delivered",
            "late (> 1 s)",
            "lost",
            "duplicates",
            "order violations",
            "p50 ms",
            "p99 ms",
            "same-replica p50 / p99",
            "cross-replica p50 / p99",
        ],
        [
            [
                r["layer"],
                r.get("clients"),
                f"{r['deliveries_per_s_sent']:,.0f}",
                f"{r['delivery_ratio']:.4%}",
                r["late"],
                r["lost"],
                r["duplicates"],
                r["order_violations"],
                _num(r["p50_ms"]),
                _num(r["p99_ms"]),
                f"{_num(r['same_p50_ms'])} / {_num(r['same_p99_ms'])}",
                f"{_num(r['cross_p50_ms'])} / {_num(r['cross_p99_ms'])}",
            ]
            if "error" not in r
            else [r["layer"], r.get("clients"), "failed: " + r["error"][:80], *[""] * 9]
            for r in rows
        ],
    )
    return (
        "Two daphne replicas (run by blog_site.serve, as in production) sharing "
        "one Redis; clients split evenly between them "
        f"in room `{ROOM}`; {SENDERS} senders (half on each replica) at a fixed rate "
        f"for {duration:.0f} s, then a drain until no frame has arrived for 1 s (at "
        f"most {DRAIN_S:.0f} s); a delivery later than {LATE_S:.0f} s is *late*, one "
        "that never came is *lost*. Latency is send to "
        "receive on one clock. *pubsub* is the layer the site runs "
        "(channels_redis.pubsub), *core* is channels_redis.core. The clients run in "
        "one asyncio process on the same 2 cores as both replicas and Redis, so "
        "they are part of what is measured.\n\n" + table
    )


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def targets(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    site = [r for r in rows if r["layer"] == "pubsub" and "error" not in r]
    if not site:
        return []
    out = []
    clean = all(
        r["lost"] == 0
        and r["late"] == 0
        and r["duplicates"] == 0
        and r["order_violations"] == 0
        for r in site
    )
    worst_ratio = min(r["delivery_ratio"] for r in site)
    out.append(
        {
            "name": "Chat: delivery, duplicates, per-sender order (pub/sub layer)",
            "goal": "100% on time, 0 duplicates, 0 order violations",
            "measured": f"worst delivery {worst_ratio:.4%}; late "
            f"{sum(r['late'] for r in site)}, lost {sum(r['lost'] for r in site)}, dup "
            f"{sum(r['duplicates'] for r in site)}, order {sum(r['order_violations'] for r in site)}",
            "status": "met" if clean else "missed",
        }
    )
    five_hundred = [r for r in site if r["clients"] == 500]
    if five_hundred:
        calm = min(five_hundred, key=lambda r: r["target_deliveries_per_s"])
        p99 = calm["p99_ms"]
        out.append(
            {
                "name": "Chat p99 with 500 clients over two replicas",
                "goal": "≤ 50 ms",
                "measured": f"{_num(p99)} ms at {calm['deliveries_per_s_sent']:,.0f} deliveries/s",
                "status": "met" if p99 is not None and p99 <= 50 else "missed",
            }
        )
    fast = [r for r in site if r["target_deliveries_per_s"] >= 10_000]
    if fast:
        worst = max(fast, key=lambda r: r["p50_ms"] or 0)
        ok = all(
            (r["p50_ms"] or 1e9) <= 100 and r["lost"] == 0 and r["late"] == 0
            for r in fast
        )
        out.append(
            {
                "name": "Chat at 10,000 deliveries/s",
                "goal": "p50 ≤ 100 ms, 100% delivery",
                "measured": f"worst p50 {_num(worst['p50_ms'])} ms (N={worst['clients']}), "
                f"delivery ≥ {min(r['delivery_ratio'] for r in fast):.4%}",
                "status": "met" if ok else "missed",
            }
        )
    return out
