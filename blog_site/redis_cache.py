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


class SharedClientRedisCacheClient(RedisCacheClient):
    """RedisCacheClient that builds its redis-py client once per pool.

    Django's builds a new `redis.Redis` for every cache call, and each one
    copies redis-py's table of about 170 response callbacks: a few percent of
    an uncached page's CPU for its two cache reads. `redis.Redis` is
    thread-safe (each command borrows a connection from the pool)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._redis_clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._redis_clients.get(id(pool))
        if client is None:
            client = self._redis_clients[id(pool)] = self._client(connection_pool=pool)
        return client


class SharedPoolRedisCache(RedisCache):
    _clients: ClassVar[dict[tuple[Any, ...], RedisCacheClient]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient

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
