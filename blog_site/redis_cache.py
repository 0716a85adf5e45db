"""Django's Redis cache backend with one connection pool per process.

Django keeps cache objects in an asgiref `Local`, so under ASGI every request
(each with its own context) builds a new `RedisCache`, and with it a new
connection pool: one fresh TCP connection to Redis per request, opened and
thrown away. That made Django's stock Redis cache *slower* than no cache at
all under daphne (issue 8). Here the client that owns the pools is shared by
every instance with the same servers and options, so a process keeps a
handful of connections however many requests it serves. redis-py's pools are
thread-safe and reset themselves in a forked child.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property


class SharedPoolRedisCache(RedisCache):
    _clients: ClassVar[dict[tuple[Any, ...], RedisCacheClient]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    @cached_property
    def _cache(self) -> RedisCacheClient:
        key = (
            self._class,
            tuple(self._servers),
            tuple(sorted((name, repr(value)) for name, value in self._options.items())),
        )
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = self._class(
                    self._servers, **self._options
                )
        return client
