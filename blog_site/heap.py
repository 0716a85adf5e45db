"""Keeping long-lived objects out of the cyclic garbage collector's sight.

A full collection walks every object the collector tracks. Django's own
heap (URL resolvers, compiled templates, translation catalogues) and each
open WebSocket connection's objects live for a long time, so walking them
again and again only costs latency: tens of milliseconds per pass on a
2-core machine, the tail of every page and chat message (issue 8).
blog_site.serve freezes the heap at start, after its first requests and as
WebSocket connections reach new highs.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable

# Open WebSocket connections at which the heap is first frozen again (see
# SocketFreezer), how long connecting must pause first, and the longest a
# steady trickle of connections can put it off.
SOCKETS_FREEZE_FIRST = 64
SOCKETS_FREEZE_QUIET_SECONDS = 1.0
SOCKETS_FREEZE_LATEST_SECONDS = 5.0


def freeze_heap() -> None:
    """Move every object alive now out of the cyclic collector's sight.

    Django, the app and what it builds on first use (URL resolvers, compiled
    templates, translation catalogues) live as long as the process, yet each
    full collection walked all of them: 35-60 ms on this machine every few
    seconds under load, the tail of every page's latency. Frozen objects are
    still freed by reference counting; only a cycle frozen while still in use
    (a request in flight at that moment) is never reclaimed, which is bounded
    by the requests in flight, twice per process.
    """
    gc.collect()
    gc.freeze()


class SocketFreezer:
    """Freezes the heap again when open WebSocket connections reach a new high.

    Each connection keeps a few hundred objects (its protocol, consumer,
    scope, tasks) alive for as long as it is open, and every full collection
    walked all of them: with 250 chat connections, 30-50 ms passes during
    the chat bench's load (gc.callbacks), the tail of the room's latency
    (issue 8). After the heap is frozen they are out of the collector's
    sight, and full passes took about 3 ms.

    A freeze waits for connecting to pause (a join storm is frozen once, at
    its end) but no longer than `latest` seconds. The next one
    needs twice as many open connections as the last: a connection frozen
    while open whose objects form cycles is never reclaimed when it closes
    (reference counting still frees the rest), so what freezing can keep
    stays under twice the most connections this process ever had open.
    """

    def __init__(
        self,
        freeze: Callable[[], None] = freeze_heap,
        *,
        first: int = SOCKETS_FREEZE_FIRST,
        quiet: float = SOCKETS_FREEZE_QUIET_SECONDS,
        latest: float = SOCKETS_FREEZE_LATEST_SECONDS,
    ) -> None:
        self.open = 0
        self.first = first
        self.freeze_at = first
        self.freezes = 0
        self.quiet = quiet
        self.latest = latest
        self._freeze = freeze
        self._timer: asyncio.TimerHandle | None = None
        self._deadline = 0.0

    def opened(self) -> None:
        self.open += 1
        if self.open < self.freeze_at:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        if self._timer is None:
            self._deadline = now + self.latest
        else:
            self._timer.cancel()
        when = min(now + self.quiet, self._deadline)
        self._timer = loop.call_at(when, self._run)

    def closed(self) -> None:
        self.open -= 1

    def _run(self) -> None:
        self._timer = None
        if self.open < self.freeze_at:
            return  # they left again before the pause
        self._freeze()
        self.freezes += 1
        self.freeze_at = max(self.first, 2 * self.open)
