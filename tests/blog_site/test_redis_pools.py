"""Redis pools close their idle connections and reopen them on use (real Redis)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

import pytest
import redis
from django.conf import settings

from blog_site.redis_pools import (
    AsyncIdleClosingBlockingConnectionPool,
    IdleClosingBlockingConnectionPool,
)

IDLE = 0.3


def _named(name: str) -> int:
    """Connections Redis has open under this client name."""
    admin = redis.Redis.from_url(settings.REDIS_URL)
    try:
        return sum(1 for c in admin.client_list() if c.get("name") == name)
    finally:
        admin.close()


def _eventually(predicate: Callable[[], bool], within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def _sync_pool(
    name: str, *, max_connections: int, idle_close_seconds: float = IDLE
) -> IdleClosingBlockingConnectionPool:
    return IdleClosingBlockingConnectionPool.from_url(
        settings.REDIS_URL,
        max_connections=max_connections,
        timeout=1,
        idle_close_seconds=idle_close_seconds,
        client_name=name,
    )


def _name() -> str:
    return f"bdg-idle-{uuid.uuid4().hex[:10]}"


def test_a_sync_pool_closes_idle_connections_and_reconnects_on_use() -> None:
    name = _name()
    pool = _sync_pool(name, max_connections=4)
    client = redis.Redis(connection_pool=pool)
    held = [pool.get_connection() for _ in range(3)]
    for connection in held:
        connection.send_command("PING")
        connection.read_response()
        pool.release(connection)
    assert _named(name) == 3

    assert _eventually(lambda: _named(name) == 0)

    assert client.ping() is True
    assert _named(name) == 1
    pool.disconnect()


def test_a_sync_pool_in_use_keeps_its_connection() -> None:
    name = _name()
    pool = _sync_pool(name, max_connections=2)
    client = redis.Redis(connection_pool=pool)
    seen = []
    for _ in range(15):  # busy for about five idle periods
        client.ping()
        seen.append(_named(name))
        time.sleep(IDLE / 3)
    assert seen == [1] * 15
    pool.disconnect()


def test_with_no_idle_limit_a_sync_pool_keeps_its_connections() -> None:
    name = _name()
    pool = _sync_pool(name, max_connections=2, idle_close_seconds=0)
    redis.Redis(connection_pool=pool).ping()
    time.sleep(IDLE * 3)
    assert _named(name) == 1
    pool.disconnect()


@pytest.mark.asyncio
async def test_an_async_pool_closes_idle_connections_and_reconnects_on_use() -> None:
    name = _name()
    pool = AsyncIdleClosingBlockingConnectionPool.from_url(
        settings.REDIS_URL,
        max_connections=8,
        timeout=1,
        idle_close_seconds=IDLE,
        client_name=name,
    )
    client = redis.asyncio.Redis(connection_pool=pool)
    # Concurrent commands make the pool open several connections.
    await asyncio.gather(
        *(client.blpop([f"{name}:none"], timeout=0.1) for _ in range(3))
    )
    assert _named(name) == 3

    deadline = time.monotonic() + 10
    while _named(name) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert _named(name) == 0

    assert await client.ping() is True
    assert _named(name) == 1
    await pool.disconnect()
