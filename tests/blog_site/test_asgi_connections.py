"""Connections under ASGI: one Redis pool per process, and HTTP requests on a
fixed pool of threads that keep and reuse their database connections (issue 8
found a new connection of each kind per request)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.core.cache import caches
from django.core.signals import request_finished, request_started
from django.db import connection, connections

from blog_site import page_cache
from blog_site.asgi_pool import PooledASGIHandler
from blog_site.redis_cache import SharedPoolRedisCache


def _in_thread(fn: Any) -> Any:
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(fn()))
    thread.start()
    thread.join(10)
    return out[0]


def test_cache_objects_of_different_threads_share_one_redis_client() -> None:
    # Django keeps one cache object per thread/request context; before the
    # shared client each of them opened its own pool (a connection per request).
    here = caches["default"]
    there = _in_thread(lambda: caches["default"])
    assert isinstance(here, SharedPoolRedisCache)
    assert here is not there
    assert here._cache is there._cache
    pool = here._cache._get_connection_pool(write=True)
    assert there._cache._get_connection_pool(write=True) is pool


def test_shared_cache_reads_and_writes_the_real_redis(clear_cache: None) -> None:
    cache = caches["default"]
    cache.set("bench:shared-pool", {"n": 1}, 30)
    assert _in_thread(lambda: caches["default"].get("bench:shared-pool")) == {"n": 1}


def test_many_request_threads_share_a_bounded_number_of_connections(
    clear_cache: None, settings: Any
) -> None:
    # Forty "requests" at once, each in its own thread as under ASGI: every
    # read succeeds and the process never holds more connections than the
    # pool's bound (it would hold one per thread in flight without it).
    bound = settings.CACHES["default"]["OPTIONS"]["max_connections"]
    caches["default"].set("pool:bounded", "yes", 30)
    start = threading.Barrier(40)
    answers: list[Any] = []

    def request() -> None:
        start.wait(10)
        answers.extend(caches["default"].get("pool:bounded") for _ in range(50))

    threads = [threading.Thread(target=request) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    pool = caches["default"]._cache._get_connection_pool(write=False)
    # The page cache's version key (read by every image request) goes
    # through the same pool, not one of its own.
    assert page_cache._sync_redis().connection_pool is pool
    assert answers == ["yes"] * 40 * 50
    assert 1 <= len(pool._connections) <= bound


SCOPE = {
    "type": "http",
    "method": "GET",
    "path": "/healthz",
    "query_string": b"",
    "headers": [(b"host", b"testserver")],
    "scheme": "http",
    "server": ("testserver", 80),
    "client": ("127.0.0.1", 1234),
}


def _get(app: PooledASGIHandler, count: int = 1) -> list[int]:
    """Statuses of `count` concurrent GETs of /healthz through `app`."""

    async def one() -> int:
        communicator = ApplicationCommunicator(app, dict(SCOPE))
        await communicator.send_input({"type": "http.request", "body": b""})
        start = await communicator.receive_output(10)
        await communicator.receive_output(10)
        await communicator.wait(10)
        return start["status"]

    async def run() -> list[int]:
        return list(await asyncio.gather(*(one() for _ in range(count))))

    return async_to_sync(run)()


@pytest.fixture
def pooled(settings: Any) -> Any:
    """A handler on a pool of two threads, and what each request saw in them."""
    settings.DJANGO_SYNC_THREADS = 2
    app = PooledASGIHandler()
    seen: list[tuple[str, str, int]] = []

    def started(**kwargs: Any) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT CONNECTION_ID()")
            (connection_id,) = cursor.fetchone()
        seen.append(("started", threading.current_thread().name, connection_id))

    def finished(**kwargs: Any) -> None:
        seen.append(("finished", threading.current_thread().name, 0))

    request_started.connect(started)
    request_finished.connect(finished, sender=PooledASGIHandler)
    try:
        yield app, seen
    finally:
        request_started.disconnect(started)
        request_finished.disconnect(finished, sender=PooledASGIHandler)
        # Pool threads keep their connections: close them before the test
        # database goes away.
        for _ in range(4):
            app.executor.submit(connections.close_all).result(10)
        app.executor.shutdown()


@pytest.mark.django_db(transaction=True)
def test_requests_run_on_the_pool_and_reuse_its_database_connections(
    pooled: Any,
) -> None:
    app, seen = pooled
    assert _get(app, 20) == [200] * 20
    assert _get(app, 20) == [200] * 20
    started = [row for row in seen if row[0] == "started"]
    assert len(started) == 40
    assert len([row for row in seen if row[0] == "finished"]) == 40
    # request_started and request_finished (Django's close_old_connections)
    # run in the pool thread that owns the connection.
    assert {thread for _, thread, _ in seen} <= {"django-sync_0", "django-sync_1"}
    # One connection per pool thread, kept from request to request.
    assert 1 <= len({connection_id for _, _, connection_id in started}) <= 2


@pytest.mark.django_db(transaction=True)
def test_a_pool_connection_killed_on_the_server_is_replaced_before_use(
    pooled: Any,
) -> None:
    # A MariaDB restart (or wait_timeout) breaks connections kept for reuse:
    # CONN_HEALTH_CHECKS makes the next request notice and reconnect instead
    # of failing.
    app, seen = pooled
    assert _get(app, 4) == [200] * 4
    kept = {connection_id for kind, _, connection_id in seen if kind == "started"}
    with connection.cursor() as cursor:
        for connection_id in kept:
            cursor.execute("KILL CONNECTION %s", [connection_id])
    seen.clear()
    assert _get(app, 4) == [200] * 4
    fresh = {connection_id for kind, _, connection_id in seen if kind == "started"}
    assert fresh and not fresh & kept
