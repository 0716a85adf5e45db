"""One async Redis client per process: the page cache and the chat share it."""

from __future__ import annotations

import asyncio

import pytest
from django.conf import settings

from blog_site import page_cache, redis_async
from blog_site.redis_async import async_redis
from talk.state import get_redis
from tests.services import free_port

pytestmark = pytest.mark.asyncio


async def test_the_page_cache_and_the_chat_use_one_client_and_pool() -> None:
    versions = page_cache._VersionSource(settings.REDIS_URL, 0)
    assert await versions.current() is not None  # read through the shared client
    client = async_redis()
    assert get_redis() is client
    await client.ping()
    clients = redis_async._clients[asyncio.get_running_loop()]
    assert list(clients) == [settings.REDIS_URL]
    pool = client.connection_pool
    # Both kinds of reads go through the one pool, which keeps reusing its
    # one connection.
    for _ in range(20):
        await versions.current()
        await get_redis().get("x")
    opened = len(pool._available_connections) + len(pool._in_use_connections)
    assert opened == 1


async def test_another_server_gets_its_own_client() -> None:
    other = f"redis://127.0.0.1:{free_port()}/0"
    assert async_redis(other) is not async_redis()
    assert async_redis(other) is async_redis(other)


async def test_concurrent_readers_never_hold_more_connections_than_the_bound() -> None:
    # A burst of page-cache version reads and chat reads, many more than the
    # bound at once: all of them answer, and the pool stays at its size.
    client = async_redis()
    pool = client.connection_pool
    versions = page_cache._VersionSource(settings.REDIS_URL, 0)
    reads = [versions.current() for _ in range(100)]
    reads += [get_redis().get("x") for _ in range(100)]
    await asyncio.gather(*reads)
    opened = len(pool._available_connections) + len(pool._in_use_connections)
    assert pool.max_connections == settings.REDIS_ASYNC_MAX_CONNECTIONS
    assert 1 <= opened <= settings.REDIS_ASYNC_MAX_CONNECTIONS
