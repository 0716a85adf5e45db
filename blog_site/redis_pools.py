"""Bounded Redis pools that let go of their connections when left idle.

A pool keeps every connection it ever opened: after a burst, a replica holds
its high-water mark of connections to Redis for the rest of its life, and a
quiet blog on a home cluster holds them all night. These pools close their
idle connections once nothing has asked for one for `idle_close_seconds`
(setting REDIS_IDLE_CLOSE_SECONDS; 0 keeps them forever). The closed
connections stay in the pool and reconnect on their next use, so the pool's
bound and its callers are unchanged; only the sockets go.

The check runs off a timer armed on use, so an idle process runs no code
for it. A caller that takes a connection just as it is being closed gets a
connection error, which redis-py's retry answers with a fresh connection.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import redis
from redis import asyncio as aioredis


class IdleClosingBlockingConnectionPool(redis.BlockingConnectionPool):
    """redis-py's blocking pool (threads), closing idle connections."""

    def __init__(self, *args: Any, idle_close_seconds: float = 0, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.idle_close_seconds = idle_close_seconds
        self.last_used = time.monotonic()
        self._timer: threading.Timer | None = None
        self._timer_lock = threading.Lock()

    def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        self.last_used = time.monotonic()
        if self._timer is None and self.idle_close_seconds > 0:
            self._arm(self.idle_close_seconds)
        return super().get_connection(*args, **kwargs)

    def _arm(self, delay: float) -> None:
        with self._timer_lock:
            if self._timer is None:
                self._timer = threading.Timer(delay, self._check)
                self._timer.daemon = True
                self._timer.start()

    def _check(self) -> None:
        with self._timer_lock:
            self._timer = None
        idle = time.monotonic() - self.last_used
        if idle >= self.idle_close_seconds:
            self.disconnect(inuse_connections=False)
        else:
            self._arm(self.idle_close_seconds - idle)


class AsyncIdleClosingBlockingConnectionPool(aioredis.BlockingConnectionPool):
    """redis-py's asyncio blocking pool (one event loop), closing idle connections."""

    def __init__(self, *args: Any, idle_close_seconds: float = 0, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.idle_close_seconds = idle_close_seconds
        self.last_used = time.monotonic()
        self._timer: asyncio.TimerHandle | None = None
        self._closing: asyncio.Task[None] | None = None

    async def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        self.last_used = time.monotonic()
        if self._timer is None and self.idle_close_seconds > 0:
            self._arm(self.idle_close_seconds)
        return await super().get_connection(*args, **kwargs)

    def _arm(self, delay: float) -> None:
        # A timer, not a task: one left pending when its loop closes (tests
        # run several loops) is dropped silently.
        self._timer = asyncio.get_running_loop().call_later(delay, self._check)

    def _check(self) -> None:
        self._timer = None
        idle = time.monotonic() - self.last_used
        if idle < self.idle_close_seconds:
            self._arm(self.idle_close_seconds - idle)
        elif self._closing is None or self._closing.done():
            # Kept so the task is not collected while it runs.
            self._closing = asyncio.get_running_loop().create_task(
                self.disconnect(inuse_connections=False)
            )
