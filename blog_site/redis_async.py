"""One async Redis client (one connection pool) per process, for every user.

Async connections belong to the event loop that opened them; a server
process has one loop, so this is one pool per process, shared by the page
cache's version reads and the chat's room state (issue 8: no connection per
request, `CLIENT LIST` stable under load). Tests that run several loops, or
point REDIS_URL at a throwaway server, get a client per loop and URL.
"""

from __future__ import annotations

import asyncio
import weakref

from django.conf import settings
from redis import asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

from blog_site.redis_pools import AsyncIdleClosingBlockingConnectionPool

_clients: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[str, aioredis.Redis]
] = weakref.WeakKeyDictionary()


def async_redis(url: str | None = None) -> aioredis.Redis:
    """The shared async client for `url` (default REDIS_URL) on this loop."""
    url = url or settings.REDIS_URL
    loop = asyncio.get_running_loop()
    clients = _clients.setdefault(loop, {})
    client = clients.get(url)
    if client is None:
        pool = AsyncIdleClosingBlockingConnectionPool.from_url(
            url,
            # A fixed bound: awaiting a free connection costs far less than
            # a pool that grows with every request in flight.
            max_connections=settings.REDIS_ASYNC_MAX_CONNECTIONS,
            timeout=2,
            socket_connect_timeout=2,
            socket_timeout=2,
            # Fail fast while Redis is down: callers fall back (the page cache
            # to Django, the chat by closing with 4013 so clients back off).
            retry=Retry(ExponentialBackoff(cap=0.2, base=0.05), 1),
            health_check_interval=30,
            idle_close_seconds=settings.REDIS_IDLE_CLOSE_SECONDS,
        )
        client = clients[url] = aioredis.Redis(connection_pool=pool)
    return client
