"""The replica's fan-out hub (talk/hub.py): one layer member per room and
process, whatever the number of connections, gone with the last of them.

Through the project's ASGI stack and the real Redis, on both channel layers:
the pub/sub layer keeps its group members in the process and subscribes in
Redis, the core layer keeps them in a Redis sorted set.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from channels.layers import get_channel_layer
from django.conf import settings as django_settings

from talk.broadcast import room_group
from talk.hub import hubs
from talk.state import get_redis
from tests.talk.conftest import connect, receive, receive_type
from tests.talk.core_layer_settings import CHANNEL_LAYERS as CORE_LAYERS

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@pytest.fixture(params=["pubsub", "core"])
def layer(request, settings) -> str:
    if request.param == "core":
        # channels drops its layer instances when the setting changes.
        settings.CHANNEL_LAYERS = CORE_LAYERS
    return request.param


def members_counter(kind: str, slug: str) -> Callable[[], Awaitable[int]]:
    """How many members this process has in the room's group, as the layer
    itself records them."""
    config = django_settings.CHANNEL_LAYERS["default"]["CONFIG"]
    group = room_group(slug)

    async def pubsub() -> int:
        # In process (the layer fans a group message out to these), and the
        # subscription in Redis that feeds them.
        local = get_channel_layer()._get_layer().groups  # type: ignore[union-attr]
        channel = f"{config['prefix']}__group__{group}"
        (_, subscribed), *_ = await get_redis().pubsub_numsub(channel)
        assert subscribed == (1 if channel in local else 0)
        return len(local.get(channel, ()))

    async def core() -> int:
        return await get_redis().zcard(f"{config['prefix']}:group:{group}")

    return pubsub if kind == "pubsub" else core


async def settle(sockets) -> None:
    """Read until the join notices of later arrivals are over."""
    for sock in sockets:
        while not await sock.receive_nothing(timeout=0.3):
            await sock.receive_from()


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.05)


async def test_a_room_has_one_layer_member_per_process(room, layer) -> None:
    members = members_counter(layer, room.slug)
    socks = [(await connect(room.slug))[0] for _ in range(5)]
    await settle(socks)
    assert await members() == 1
    assert len(hubs()[room.slug].members) == 5
    await socks[0].send_json_to({"type": "message", "text": "to all five"})
    for sock in socks:
        frame = await receive_type(sock, "message")
        assert frame["text"] == "to all five"
        assert frame["mine"] is (sock is socks[0])
        assert await sock.receive_nothing(timeout=0.2)  # once each
    for sock in socks:
        await sock.disconnect()


async def test_the_last_connection_to_leave_stops_the_hub(room, layer) -> None:
    members = members_counter(layer, room.slug)
    first, _ = await connect(room.slug)
    second, _ = await connect(room.slug)
    await first.disconnect()
    assert room.slug in hubs()
    assert await members() == 1
    await second.disconnect()
    assert room.slug not in hubs()
    await eventually(lambda: _is(members(), 0))
    # A later visitor starts a new hub, which hears the room again.
    again, _ = await connect(room.slug)
    assert await members() == 1
    await again.send_json_to({"type": "message", "text": "anyone?"})
    assert (await receive(again))["text"] == "anyone?"
    await again.disconnect()
    await eventually(lambda: _is(members(), 0))


async def _is(value: Awaitable[int], expected: int) -> bool:
    return await value == expected


async def test_each_room_has_its_own_hub(room, make_room, layer) -> None:
    from channels.db import database_sync_to_async

    other = await database_sync_to_async(make_room)()
    here, _ = await connect(room.slug)
    there, _ = await connect(other.slug)
    assert {room.slug, other.slug} <= set(hubs())
    await here.send_json_to({"type": "message", "text": "here only"})
    assert (await receive(here))["text"] == "here only"
    assert await there.receive_nothing(timeout=0.3)
    await here.disconnect()
    assert room.slug not in hubs() and other.slug in hubs()
    await there.disconnect()


async def test_live_messages_during_a_resume_come_once_and_after_the_hello(
    room, settings
) -> None:
    settings.TALK_HISTORY_SIZE = 1
    other, _ = await connect(room.slug)
    for n in range(3):
        await other.send_json_to({"type": "message", "text": f"m{n}"})
    for _ in range(3):
        await receive_type(other, "message")
    again, hello = await connect(room.slug)
    assert [m["text"] for m in hello["history"]] == ["m2"]
    await again.send_json_to({"type": "resume", "after": 0})
    await other.send_json_to({"type": "message", "text": "live"})
    frames = [await receive(again) for _ in range(4)]
    resumed = [f.get("text", f["type"]) for f in frames if f["type"] == "message"]
    assert sorted(resumed) == ["live", "m0", "m1"]
    assert [f.get("text") for f in frames if f.get("text") != "live"] == [
        "m0",
        "m1",
        None,  # the resumed frame ends the resume batch
    ]
    assert await again.receive_nothing(timeout=0.3)
    for sock in (other, again):
        await sock.disconnect()
