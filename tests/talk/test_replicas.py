"""Two real daphne processes sharing one Redis: the room spans replicas."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from django.conf import settings

from tests.conftest import live_env
from tests.services import DaphneServer
from tests.talk.clients import ChatClient

pytestmark = pytest.mark.django_db(transaction=True)


def replica_env(redis_url: str) -> dict[str, str]:
    return live_env(
        settings.DATABASES["default"]["NAME"],
        REDIS_URL=redis_url,
        TALK_PRESENCE_HEARTBEAT_SECONDS="1",
        # Every client here comes from 127.0.0.1.
        TALK_RATE_LIMIT_IP_MESSAGES="0",
    )


@pytest.fixture
def replicas(transactional_db) -> Iterator[list[DaphneServer]]:
    servers = [DaphneServer(env=replica_env(settings.REDIS_URL)) for _ in range(2)]
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()


def test_every_message_reaches_every_client_on_both_replicas(replicas, room) -> None:
    asyncio.run(converse(replicas, room.slug))


async def converse(replicas: list[DaphneServer], slug: str) -> None:
    clients: list[ChatClient] = []
    for n in range(6):
        clients.append(await ChatClient(replicas[n % 2].url, slug).start())
    # Everyone sees the arrivals after their own, across replicas.
    for i, client in enumerate(clients):
        later = [c.name for c in clients[i + 1 :]]
        expected = len(later)
        await client.wait_for(lambda c=client, k=expected: len(c.of_type("join")) >= k)
        assert [f["name"] for f in client.of_type("join")] == later
    assert len({c.name for c in clients}) == 6  # names are unique in the room

    per_sender = 5

    async def talk(n: int, client: ChatClient) -> None:
        for k in range(per_sender):
            await client.say(f"c{n}:{k}")

    await asyncio.gather(*(talk(n, c) for n, c in enumerate(clients)))
    total = per_sender * len(clients)
    for client in clients:
        await client.wait_for(lambda c=client: len(c.messages) >= total)
    for client in clients:
        assert client.duplicates == 0
        assert len(client.messages) == total
        # One room order for everyone: ids arrive increasing.
        assert client.order == sorted(client.order)
        for n, sender in enumerate(clients):
            said = [
                m
                for m in (client.messages[i] for i in client.order)
                if m["text"].startswith(f"c{n}:")
            ]
            assert [m["text"] for m in said] == [f"c{n}:{k}" for k in range(per_sender)]
            assert {m["name"] for m in said} == {sender.name}
            assert all(m["mine"] == (client is sender) for m in said)
    assert [c.order for c in clients[1:]] == [clients[0].order] * 5

    leaving = clients.pop(0)
    await leaving.close()
    for client in clients:
        await client.wait_for(lambda c=client: bool(c.of_type("leave")))
        leave = client.of_type("leave")[0]
        assert leave == {"type": "leave", "name": leaving.name, "count": 5}
    for client in clients:
        await client.close()
