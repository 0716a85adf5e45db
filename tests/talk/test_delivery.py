"""Delivery under load: the reorder window and acknowledgements (issue 8, 10).

Through the project's ASGI stack with the real Redis channel layer.
"""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from talk import selectors
from talk.broadcast import room_broadcast_async
from talk.models import Message, Room
from talk.protocol import message_event
from talk.state import get_state
from tests.talk.conftest import connect, receive, receive_type

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def store_silently(room: Room, text: str) -> Message:
    """A stored message whose broadcast is left to the test."""
    seq = Room.objects.get(pk=room.pk).last_seq + 1
    Room.objects.filter(pk=room.pk).update(last_seq=seq)
    return Message.objects.create(
        room=room, seq=seq, name="x", text=text, session_hash="s"
    )


async def announce(room: Room, message: Message) -> None:
    await room_broadcast_async(room.slug, message_event(message), seq=message.seq)


@pytest.fixture
def gap_queries(monkeypatch) -> list[tuple[int, int]]:
    """Every gap the consumers fetch from the database: (after, upto)."""
    calls: list[tuple[int, int]] = []
    real = selectors.chat_message_list_between

    def counting(*, room_slug: str, after_seq: int, upto_seq: int) -> Any:
        calls.append((after_seq, upto_seq))
        return real(room_slug=room_slug, after_seq=after_seq, upto_seq=upto_seq)

    monkeypatch.setattr(selectors, "chat_message_list_between", counting)
    return calls


async def test_out_of_order_arrivals_within_the_window_cost_no_query(
    room, settings, gap_queries
) -> None:
    # Long enough that the second broadcast always lands inside it.
    settings.TALK_REORDER_WINDOW_MS = 5000
    sock, _ = await connect(room.slug)
    first = await store_silently(room, "first")
    second = await store_silently(room, "second")
    await announce(room, second)  # as from the faster replica
    assert await sock.receive_nothing(timeout=0.3)  # held, not sent
    await announce(room, first)
    frames = [await receive(sock), await receive(sock)]
    assert [f["text"] for f in frames] == ["first", "second"]
    assert gap_queries == []
    assert await sock.receive_nothing(timeout=0.3)
    await sock.disconnect()


async def test_a_gap_that_outlasts_the_window_is_filled_once(
    room, settings, gap_queries
) -> None:
    settings.TALK_REORDER_WINDOW_MS = 100
    sock, _ = await connect(room.slug)
    lost = await store_silently(room, "lost")
    held = [await store_silently(room, f"held {n}") for n in range(3)]
    for message in held:
        await announce(room, message)
    frames = [await receive(sock) for _ in range(4)]
    assert [f["text"] for f in frames] == ["lost", "held 0", "held 1", "held 2"]
    assert gap_queries == [(lost.seq - 1, held[-1].seq)]
    # The layer's copies, arriving late, are not sent again.
    await announce(room, lost)
    assert await sock.receive_nothing(timeout=0.3)
    await sock.disconnect()


async def test_without_a_window_every_gap_is_fetched_at_once(
    room, settings, gap_queries
) -> None:
    settings.TALK_REORDER_WINDOW_MS = 0
    sock, _ = await connect(room.slug)
    first = await store_silently(room, "first")
    second = await store_silently(room, "second")
    await announce(room, second)
    frames = [await receive(sock), await receive(sock)]
    assert [f["text"] for f in frames] == ["first", "second"]
    assert gap_queries == [(first.seq - 1, first.seq)]
    await sock.disconnect()


async def test_a_client_that_acks_stays_and_one_that_does_not_is_closed(
    room, settings
) -> None:
    settings.TALK_MAX_UNACKED = 5
    settings.TALK_MAX_UNACKED_BYTES = 0
    acking, hello = await connect(room.slug)
    assert hello["max_unacked"] == 5 and hello["ack_every"] > 0
    silent, _ = await connect(room.slug)
    received = 1  # the hello; every frame counts, whatever its type

    async def next_message() -> dict[str, Any]:
        nonlocal received
        while True:
            frame = await acking.receive_json_from(timeout=10)
            received += 1  # a batch is one frame, however many it carries
            inner = frame["frames"] if frame["type"] == "batch" else [frame]
            messages = [f for f in inner if f["type"] == "message"]
            if messages:
                return messages[0]

    for n in range(8):
        await announce(room, await store_silently(room, f"m{n}"))
        assert (await next_message())["text"] == f"m{n}"
        await acking.send_json_to({"type": "ack", "count": received})
    # The silent one had the hello and five messages unacknowledged: the
    # sixth frame was one too many.
    sent = []
    while True:
        output = await silent.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            assert output["code"] == 4408
            break
        sent.append(output["type"])
    assert sent == ["websocket.send"] * 5
    counts = await get_state().over_capacity(days=[timezone.localdate().isoformat()])
    assert counts[(room.slug, timezone.localdate().isoformat())] == 1
    # The acker was never closed and still chats.
    await acking.send_json_to({"type": "message", "text": "still here"})
    assert (await receive_type(acking, "message"))["text"] == "still here"
    await acking.disconnect()


async def test_an_ack_for_frames_never_sent_is_refused(room) -> None:
    sock, _ = await connect(room.slug)
    for bad in (99, -1, "3", True, None):
        await sock.send_json_to({"type": "ack", "count": bad})
        error = await receive(sock)
        assert error["type"] == "error" and error["code"] == "bad_frame"
    await sock.send_json_to({"type": "ack", "count": 1})
    assert await sock.receive_nothing(timeout=0.3)
    await sock.disconnect()


async def test_the_connections_of_a_replica_share_one_query_per_gap(
    room, settings, gap_queries
) -> None:
    settings.TALK_REORDER_WINDOW_MS = 100
    socks = [(await connect(room.slug))[0] for _ in range(4)]
    for sock in socks:
        while not await sock.receive_nothing(timeout=0.3):
            await sock.receive_from()  # the later arrivals' joins
    await store_silently(room, "lost")
    await announce(room, await store_silently(room, "after"))
    for sock in socks:
        frames = [await receive(sock), await receive(sock)]
        assert [f["text"] for f in frames] == ["lost", "after"]
    assert len(gap_queries) == 1
    for sock in socks:
        await sock.disconnect()


async def test_a_deleted_message_is_not_handed_out_by_a_later_gap_fill(
    room, gap_queries
) -> None:
    from talk import services
    from talk.backlog import RoomBacklog

    backlog = RoomBacklog()
    messages = [await store_silently(room, f"m{n}") for n in range(3)]
    for message in messages:
        backlog.remember(room.slug, message_event(message))
    after = messages[0].seq - 1
    # All seen on this replica: no query.
    texts = await backlog.between(room.slug, after, messages[-1].seq)
    assert [e["text"] for e in texts] == ["m0", "m1", "m2"]
    assert gap_queries == []
    await database_sync_to_async(services.chat_message_delete)(
        message=messages[1], by=None
    )
    backlog.forget(room.slug, messages[1].pk)
    texts = await backlog.between(room.slug, after, messages[-1].seq)
    assert [e["text"] for e in texts] == ["m0", "m2"]  # from the database
    assert len(gap_queries) == 1
