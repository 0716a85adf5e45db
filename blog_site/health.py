"""Liveness and readiness probes.

`/healthz` does no I/O, so a slow database never gets a healthy pod killed;
`/readyz` checks every configured dependency with a short timeout so that
Kubernetes stops routing to a replica that cannot serve.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from blog_site.draining import is_draining


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    # Runs in a throwaway worker thread, which gets its own connection: close
    # it so probes never leak connections.
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        connection.close()


def _check_redis() -> None:
    import redis

    timeout = settings.READINESS_TIMEOUT_SECONDS
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=timeout, socket_timeout=timeout
    )
    try:
        client.ping()
    finally:
        client.close()


def _check_s3() -> None:
    from media_store.storage import bucket_reachable

    bucket_reachable(timeout=settings.READINESS_TIMEOUT_SECONDS)


def _checks() -> dict[str, Callable[[], None]]:
    checks: dict[str, Callable[[], None]] = {"database": _check_database}
    if settings.REDIS_URL:
        checks["redis"] = _check_redis
    if settings.S3_ENDPOINT_URL:
        checks["s3"] = _check_s3
    return checks


def _run(check: Callable[[], None], timeout: float) -> str:
    # The database driver has no per-query timeout we can rely on, so each
    # check runs in a worker and is abandoned when it takes too long.
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="readyz")
    future = pool.submit(check)
    try:
        future.result(timeout=timeout)
    except FutureTimeout:
        return "timeout"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return f"error: {type(exc).__name__}"
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return "ok"


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    if is_draining():
        # Shutting down (blog_site.serve got SIGTERM): whatever still reaches
        # this replica on an open connection learns to route elsewhere.
        return JsonResponse(
            {"status": "draining", "checks": {}, "failing": ["draining"]}, status=503
        )
    timeout = settings.READINESS_TIMEOUT_SECONDS
    started = time.monotonic()
    results = {name: _run(check, timeout) for name, check in _checks().items()}
    failing = sorted(name for name, result in results.items() if result != "ok")
    body = {
        "status": "ok" if not failing else "unavailable",
        "checks": results,
        "failing": failing,
        "elapsed_ms": round((time.monotonic() - started) * 1000, 1),
    }
    return JsonResponse(body, status=503 if failing else 200)
