"""Redis connections under load: `CLIENT LIST` sampled while wrk runs.

Each connection of the bench's Redis database is mapped to the server
process that owns it (by its local TCP port), so the report can say "N
connections per process, the same before, during and after load" rather
than one total that other tools could blur.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any


def _owner_ports(pids: dict[str, list[int]]) -> dict[int, str]:
    """Local port -> server name, for every TCP connection of the watched processes."""
    import psutil

    owners: dict[int, str] = {}
    for name, roots in pids.items():
        for root in roots:
            try:
                proc = psutil.Process(root)
                family = [proc, *proc.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
            for member in family:
                try:
                    for conn in member.net_connections(kind="tcp"):
                        if conn.laddr:
                            owners[conn.laddr.port] = name
                except psutil.Error:
                    continue
    return owners


@dataclass
class RedisWatch:
    url: str
    db: int
    pids: dict[str, list[int]]
    interval: float = 0.5
    samples: list[dict[str, Any]] = field(default_factory=list)
    label: str = "idle"
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def sample(self) -> dict[str, Any]:
        import redis

        client = redis.Redis.from_url(self.url, socket_timeout=2)
        try:
            own = str(client.client_id())
            entries = [
                row
                for row in client.client_list()
                if str(row.get("db")) == str(self.db) and str(row.get("id")) != own
            ]
        finally:
            client.close()
        owners = _owner_ports(self.pids)
        per_server: dict[str, int] = defaultdict(int)
        for entry in entries:
            port = int(entry.get("addr", ":0").rsplit(":", 1)[1])
            per_server[owners.get(port, "other")] += 1
        return {
            "t": time.time(),
            "label": self.label,
            "total": len(entries),
            "per_server": dict(per_server),
        }

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.samples.append(self.sample())
            except Exception as exc:  # noqa: BLE001 - a sample lost is reported, not fatal
                self.samples.append(
                    {"t": time.time(), "label": self.label, "error": str(exc)}
                )

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)


def summarise(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Per label: min/max connections per server process."""
    out: dict[str, dict[str, dict[str, int]]] = {}
    for s in samples:
        if "per_server" not in s:
            continue
        bucket = out.setdefault(s["label"], {})
        for name, count in s["per_server"].items():
            seen = bucket.setdefault(name, {"min": count, "max": count, "samples": 0})
            seen["min"] = min(seen["min"], count)
            seen["max"] = max(seen["max"], count)
            seen["samples"] += 1
    return out
