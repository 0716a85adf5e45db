"""Connections under ASGI: one Redis pool per process, no database connection
left behind by a finished request (issue 8 found both)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.core.cache import caches
from django.core.handlers.asgi import ASGIHandler
from django.core.signals import request_finished, request_started
from django.db import connection, connections

from blog_site import page_cache
from blog_site.asgi_db import close_request_connections
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


@pytest.mark.django_db(transaction=True)
def test_an_asgi_request_closes_its_database_connection_when_it_ends() -> None:
    seen: dict[str, Any] = {}

    def view_thread_state(**kwargs: Any) -> None:
        # Runs in the request's own thread, after the asgi_db receiver.
        seen["open_after"] = connection.connection is not None

    def touch_db(**kwargs: Any) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        seen["open_during"] = connection.connection is not None

    import blog_site.asgi  # noqa: F401 - installs the receiver

    request_started.connect(touch_db)
    request_finished.connect(view_thread_state, sender=ASGIHandler)
    try:
        app = ASGIHandler()
        communicator = ApplicationCommunicator(
            app,
            {
                "type": "http",
                "method": "GET",
                "path": "/healthz",
                "query_string": b"",
                "headers": [(b"host", b"testserver")],
                "scheme": "http",
                "server": ("testserver", 80),
                "client": ("127.0.0.1", 1234),
            },
        )

        async def run() -> int:
            await communicator.send_input({"type": "http.request", "body": b""})
            start = await communicator.receive_output(5)
            await communicator.receive_output(5)
            await communicator.wait(5)
            return start["status"]

        assert async_to_sync(run)() == 200
    finally:
        request_started.disconnect(touch_db)
        request_finished.disconnect(view_thread_state, sender=ASGIHandler)
    assert seen["open_during"] is True
    assert seen["open_after"] is False


@pytest.mark.django_db(transaction=True)
def test_the_receiver_leaves_a_connection_inside_a_transaction_alone() -> None:
    from django.db import transaction

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        close_request_connections()
        assert connection.connection is not None
    close_request_connections()
    assert all(c.connection is None for c in connections.all(initialized_only=True))
