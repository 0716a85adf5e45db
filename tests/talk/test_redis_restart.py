"""Redis restarts mid-conversation: the servers keep serving, chat resumes,
and nothing said after the restart is lost."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator

import httpx
import pytest

from tests.services import DaphneServer, RedisServer
from tests.talk.clients import ChatClient
from tests.talk.test_replicas import replica_env

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.stop()
    shutil.rmtree(server.data_dir, ignore_errors=True)


@pytest.fixture
def replicas_on_own_redis(transactional_db, own_redis) -> Iterator[list[DaphneServer]]:
    servers = [DaphneServer(env=replica_env(own_redis.url)) for _ in range(2)]
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()


def test_chat_resumes_after_a_redis_restart_and_loses_nothing(
    replicas_on_own_redis, own_redis, room
) -> None:
    asyncio.run(restart_midway(replicas_on_own_redis, own_redis, room.slug))


async def restart_midway(
    replicas: list[DaphneServer], redis: RedisServer, slug: str
) -> None:
    alice = await ChatClient(replicas[0].url, slug, reconnect=True).start()
    bob = await ChatClient(replicas[1].url, slug, reconnect=True).start()
    await alice.say("before")
    for client in (alice, bob):
        await client.wait_for(lambda c=client: "before" in c.texts())

    redis.stop()
    # The servers keep answering while Redis is down.
    async with httpx.AsyncClient() as http:
        for server in replicas:
            assert (await http.get(server.url + "/healthz")).status_code == 200
    # Said while Redis is down: stored, and the sender's socket is closed
    # with "try again later" so that it reconnects and resumes.
    await alice.say("during")
    await alice.wait_for(lambda: 4013 in alice.close_codes)

    redis.start()
    await alice.wait_for(lambda: alice.hellos >= 2, timeout=30)

    after = [f"after {n}" for n in range(10)]
    for n, text in enumerate(after):
        await (alice if n % 2 == 0 else bob).say(text)
    for client in (alice, bob):
        await client.wait_for(
            lambda c=client: set(after) | {"during"} <= set(c.texts()), timeout=30
        )
        assert client.duplicates == 0
        texts = client.texts()
        assert texts.index("before") < texts.index("during") < texts.index("after 0")
        assert client.order == sorted(client.order)
        for sender in (0, 1):  # each sender's messages in the order sent
            said = [t for t in texts if t in after[sender::2]]
            assert said == after[sender::2]
    await alice.close()
    await bob.close()
