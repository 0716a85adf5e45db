from __future__ import annotations

import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.test import Client, override_settings

from tests.services import free_port, wait_for_port

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_touching_anything(
    client: Client, django_assert_num_queries
) -> None:
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


# These tests ask whether the probe says "ready" when every service answers,
# not how fast they answer: a loaded CI machine may take the S3 server past
# the deployed 2 s budget, so they allow more.
ANSWERING = override_settings(READINESS_TIMEOUT_SECONDS=10)


@ANSWERING
def test_readyz_is_ok_when_database_redis_and_s3_answer(client: Client) -> None:
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["checks"] == {"database": "ok", "redis": "ok", "s3": "ok"}


@pytest.fixture
def own_redis() -> Iterator[tuple[int, Callable[[], None], Callable[[], None]]]:
    """A redis-server of this test's own, so stopping it disturbs nobody."""
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="bdg-redis-"))
    procs: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        procs.append(
            subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(workdir),
                ],
                stdout=subprocess.DEVNULL,
            )
        )
        assert wait_for_port("127.0.0.1", port, 10)

    def stop() -> None:
        proc = procs[-1]
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)

    start()
    yield port, start, stop
    if procs[-1].poll() is None:
        stop()


@ANSWERING
def test_readyz_turns_503_while_redis_is_down_and_200_when_back(
    client: Client, own_redis
) -> None:
    port, start, stop = own_redis
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{port}/0"):
        assert client.get("/readyz").status_code == 200

        stop()
        started = time.monotonic()
        response = client.get("/readyz")
        assert time.monotonic() - started < 5
        assert response.status_code == 503
        assert response.json()["failing"] == ["redis"]

        start()
        assert client.get("/readyz").status_code == 200


def test_readyz_names_s3_when_the_bucket_is_unreachable(client: Client) -> None:
    from django.conf import settings

    closed = free_port()
    storages = {
        **settings.STORAGES,
        "default": {
            **settings.STORAGES["default"],
            "OPTIONS": {
                **settings.STORAGES["default"]["OPTIONS"],
                "endpoint_url": f"http://127.0.0.1:{closed}",
            },
        },
    }
    with override_settings(STORAGES=storages):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["s3"]


def test_readyz_answers_503_while_draining_and_healthz_stays_ok(
    client: Client,
) -> None:
    """blog_site.serve marks the process draining on SIGTERM."""
    from blog_site.draining import draining_start, draining_stop

    draining_start()
    try:
        ready, alive = client.get("/readyz"), client.get("/healthz")
    finally:
        draining_stop()
    assert ready.status_code == 503
    assert ready.json()["status"] == "draining"
    assert alive.status_code == 200
    assert client.get("/readyz").status_code == 200
