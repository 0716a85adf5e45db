"""A Redis cache that degrades to misses instead of errors.

The cache is an optimisation, not a dependency of reads: while Redis is
down or restarting, pages must still be rendered from the database, sessions
still load from their table (`cached_db`), and throttles fail open. Django's
stock RedisCache raises on every call in that state, which turns a cache
outage into a site outage; this backend logs once per call site and answers
as if the key were missing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.core.cache.backends.redis import RedisCacheClient
from redis.exceptions import RedisError

from blog_site.redis_cache import SharedClientRedisCacheClient, SharedPoolRedisCache

log = logging.getLogger(__name__)

T = TypeVar("T")


def _degrade(
    fallback: Callable[..., Any],
) -> Callable[[Callable[..., T]], Callable[..., T]]:
    def decorate(method: Callable[..., T]) -> Callable[..., T]:
        @wraps(method)
        def wrapper(self: RedisCacheClient, *args: Any, **kwargs: Any) -> T:
            try:
                return method(self, *args, **kwargs)
            except RedisError as exc:
                log.warning("cache unavailable (%s): %s", method.__name__, exc)
                return fallback(*args, **kwargs)

        return wrapper

    return decorate


def _default(key: Any, default: Any = None) -> Any:
    return default


def _missing_key(key: Any, *args: Any, **kwargs: Any) -> Any:
    # incr/decr on an unknown key raise ValueError; callers already handle it.
    raise ValueError(f"Key {key!r} not found (cache unavailable)")


class ResilientRedisCacheClient(SharedClientRedisCacheClient):
    add = _degrade(lambda *a, **k: False)(RedisCacheClient.add)
    get = _degrade(_default)(RedisCacheClient.get)
    set = _degrade(lambda *a, **k: None)(RedisCacheClient.set)
    touch = _degrade(lambda *a, **k: False)(RedisCacheClient.touch)
    delete = _degrade(lambda *a, **k: False)(RedisCacheClient.delete)
    get_many = _degrade(lambda *a, **k: {})(RedisCacheClient.get_many)
    has_key = _degrade(lambda *a, **k: False)(RedisCacheClient.has_key)
    incr = _degrade(_missing_key)(RedisCacheClient.incr)
    set_many = _degrade(lambda *a, **k: [])(RedisCacheClient.set_many)
    delete_many = _degrade(lambda *a, **k: None)(RedisCacheClient.delete_many)
    clear = _degrade(lambda *a, **k: False)(RedisCacheClient.clear)


class ResilientRedisCache(SharedPoolRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ResilientRedisCacheClient
