"""Graceful shutdown drill: SIGTERM to one of two real replicas mid-traffic.

Replica A gets slow requests and chat clients, then SIGTERM. Every request in
flight finishes with 200, every socket is closed with 1012 (not dropped), the
clients reconnect to replica B and miss nothing said during the switch, and
A exits with status 0 once drained.
"""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
import redis
from django.conf import settings
from websockets.asyncio.client import connect

from talk.models import Room
from tests.conftest import live_env
from tests.services import DaphneServer
from tests.talk.clients import ChatClient

pytestmark = pytest.mark.django_db(transaction=True)

GRACE_SECONDS = 15
IN_FLIGHT = 6
CHATTERS = 4
SAID_DURING_SWITCH = 40


def drill_env(**extra: str) -> dict[str, str]:
    overrides = {
        "DJANGO_SETTINGS_MODULE": "tests.blog_site.shutdown_settings",
        "REDIS_URL": settings.REDIS_URL,
        "SHUTDOWN_GRACE_SECONDS": str(GRACE_SECONDS),
        "TALK_PRESENCE_HEARTBEAT_SECONDS": "1",
        # Every client here comes from 127.0.0.1, and one of them talks fast.
        "TALK_RATE_LIMIT_IP_MESSAGES": "0",
        "TALK_RATE_LIMIT_MESSAGES": "0",
    }
    return live_env(settings.DATABASES["default"]["NAME"], **(overrides | extra))


@pytest.fixture
def replicas(transactional_db) -> Iterator[list[DaphneServer]]:
    servers = [DaphneServer(env=drill_env()) for _ in range(2)]
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def drill_key() -> Iterator[str]:
    key = f"bdg:shutdown-drill:{uuid.uuid4().hex}"
    yield key
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(f"{key}:arrived", f"{key}:release")
    client.close()


class FailoverClient(ChatClient):
    """Reconnects like a browser behind the load balancer: to whichever
    replica still accepts connections (A first, then B)."""

    def __init__(self, urls: list[str], slug: str) -> None:
        super().__init__(urls[0], slug, reconnect=True)
        self.urls = [f"ws://{urlsplit(u).netloc}/ws/talk/{slug}/" for u in urls]
        self.connected_to: list[str] = []

    async def _open(self) -> None:
        errors = []
        for url in self.urls:
            try:
                self.ws = await connect(
                    url, origin=self.origin, proxy=None, open_timeout=5
                )
            except OSError as error:
                errors.append(error)
                continue
            self.connected_to.append(url)
            return
        raise ConnectionError(errors)


def test_sigterm_drains_requests_and_moves_chat_to_the_other_replica(
    replicas, drill_key
) -> None:
    room = Room.objects.create(slug=f"d-{uuid.uuid4().hex[:8]}", name="drill")
    asyncio.run(drill(replicas, room.slug, drill_key))


async def drill(replicas: list[DaphneServer], slug: str, key: str) -> None:
    a, b = replicas
    store = redis.Redis.from_url(settings.REDIS_URL)
    chatters = [
        await FailoverClient([a.url, b.url], slug).start() for _ in range(CHATTERS)
    ]
    sender = await ChatClient(b.url, slug).start()
    assert all(c.connected_to == [c.urls[0]] for c in chatters)

    async with (
        httpx.AsyncClient(timeout=GRACE_SECONDS + 30) as slow_http,
        httpx.AsyncClient(timeout=10) as kept_alive,
    ):
        assert (await kept_alive.get(a.url + "/readyz")).status_code == 200
        requests = [
            asyncio.create_task(
                slow_http.get(f"{a.url}/test/slow", params={"key": key})
            )
            for _ in range(IN_FLIGHT)
        ]
        while int(store.get(f"{key}:arrived") or 0) < IN_FLIGHT:
            await asyncio.sleep(0.05)

        async def say_through_the_switch() -> None:
            for n in range(SAID_DURING_SWITCH):
                await sender.say(f"switch {n}")
                await asyncio.sleep(0.05)

        talking = asyncio.create_task(say_through_the_switch())
        await asyncio.sleep(0.2)  # some messages before the signal, most after
        assert a.process is not None
        signalled = time.monotonic()
        a.process.send_signal(signal.SIGTERM)

        for chatter in chatters:
            await chatter.wait_for(lambda c=chatter: c.hellos >= 2)
        reconnected = time.monotonic() - signalled
        # Draining: probes on a connection A still has answer 503, new
        # connections are refused, the slow requests are still running.
        readyz = await kept_alive.get(a.url + "/readyz")
        assert readyz.status_code == 503
        assert readyz.json()["status"] == "draining"
        with pytest.raises(httpx.ConnectError):
            await httpx.AsyncClient().get(a.url + "/healthz")
        assert not any(r.done() for r in requests)

        await talking
        store.set(f"{key}:release", "1")
        responses = await asyncio.gather(*requests, return_exceptions=True)

    said = [f"switch {n}" for n in range(SAID_DURING_SWITCH)]
    for client in [*chatters, sender]:
        await client.wait_for(lambda c=client: set(said) <= set(c.texts()))
    exit_status = await asyncio.to_thread(a.process.wait, GRACE_SECONDS + 10)
    exited_after = time.monotonic() - signalled

    finished = [
        r
        for r in responses
        if not isinstance(r, BaseException) and r.status_code == 200
    ]
    codes = sorted({code for c in chatters for code in c.close_codes})
    lost = sum(len(set(said) - set(c.texts())) for c in chatters)
    duplicates = sum(c.duplicates for c in chatters)
    print(
        f"\ngraceful shutdown: in-flight finished {len(finished)}/{IN_FLIGHT}, "
        f"close codes seen {codes}, {CHATTERS} clients reconnected to B in "
        f"{reconnected:.2f} s, messages lost {lost}, duplicates {duplicates}, "
        f"A exited {exit_status} after {exited_after:.1f} s (grace {GRACE_SECONDS} s)"
    )
    for client in [*chatters, sender]:
        await client.close()
    store.close()

    assert [r.text for r in finished] == ["finished"] * IN_FLIGHT, responses
    assert codes == [1012]
    assert all(c.connected_to == c.urls for c in chatters)  # A, then B
    assert all(c.texts()[-SAID_DURING_SWITCH:] == said for c in chatters)
    assert (lost, duplicates) == (0, 0)
    assert exit_status == 0
    log = a.log()
    assert "graceful shutdown: SIGTERM" in log, log
    assert "0 cancelled" in log and "grace period over" not in log, log


def test_a_request_outliving_the_grace_period_is_cut_and_the_process_exits(
    transactional_db, drill_key
) -> None:
    server = DaphneServer(env=drill_env(SHUTDOWN_GRACE_SECONDS="1")).start()
    try:
        asyncio.run(outlive_grace(server, drill_key))
    finally:
        server.stop()


async def outlive_grace(server: DaphneServer, key: str) -> None:
    store = redis.Redis.from_url(settings.REDIS_URL)
    async with httpx.AsyncClient(timeout=30) as http:
        stuck = asyncio.create_task(
            http.get(f"{server.url}/test/slow", params={"key": key})
        )
        while int(store.get(f"{key}:arrived") or 0) < 1:
            await asyncio.sleep(0.05)
        store.close()
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)
        # Never released: the grace period ends it, the client sees the cut.
        with pytest.raises(httpx.RemoteProtocolError):
            await stuck
    exit_status = await asyncio.to_thread(server.process.wait, 20)
    assert exit_status == 0
    log = server.log()
    assert "grace period over" in log and "cancelling 1 still running" in log, log


def test_the_launcher_writes_no_access_line_per_request_unless_asked(
    transactional_db,
) -> None:
    """Traefik logs every request; daphne's own line per request is opt-in."""
    quiet = DaphneServer(env=drill_env()).start()
    plain = DaphneServer(env=drill_env(), graceful=False).start()
    try:
        for server in (quiet, plain):
            _wait_healthy(server)
    finally:
        quiet.stop()
        plain.stop()
    assert '"GET /healthz" 200' in plain.log(), plain.log()
    assert '"GET /healthz"' not in quiet.log(), quiet.log()


def _wait_healthy(server: DaphneServer) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{server.url} never became healthy:\n{server.log()}")
