"""ChatConsumer over the real ASGI stack and the real Redis channel layer."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.contrib.sessions.backends.cached_db import SessionStore

from talk import services
from talk.identity import SESSION_NAME_KEY
from talk.models import Message, Room
from talk.state import get_redis, get_state
from tests.talk.conftest import (
    connect,
    open_socket,
    receive,
    receive_type,
    session_for,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def store(room: Room, text: str, name: str = "허웅", sid: str = "s") -> Message:
    return services.chat_message_create(
        room=room, name=name, text=text, session_hash=sid, ip_hash="ip"
    )


async def test_the_real_redis_channel_layer_is_in_use() -> None:
    layer = get_channel_layer()
    assert type(layer).__name__ == "RedisPubSubChannelLayer"


async def test_hello_gives_a_name_the_count_and_the_last_messages(
    room, settings
) -> None:
    settings.TALK_HISTORY_SIZE = 2
    for text in ("하나", "둘", "셋"):
        await store(room, text)
    sock, hello = await connect(room.slug)
    assert hello["name"]
    assert hello["count"] == 1
    assert [m["text"] for m in hello["history"]] == ["둘", "셋"]
    assert hello["history"][0]["id"] < hello["history"][1]["id"]
    assert hello["history"][0]["ts"].endswith("+09:00")  # the site's time zone
    await sock.disconnect()


async def test_a_message_reaches_everyone_in_the_room_with_the_senders_name(
    room, make_room
) -> None:
    elsewhere = await database_sync_to_async(make_room)()
    alice, hello_a = await connect(room.slug)
    bob, _ = await connect(room.slug)
    other_room, _ = await connect(elsewhere.slug)
    await receive_type(alice, "join")

    await alice.send_json_to({"type": "message", "text": "  안녕하세요 <b>hi</b>  "})
    mine = await receive_type(alice, "message")
    theirs = await receive_type(bob, "message")

    assert mine["text"] == theirs["text"] == "안녕하세요 <b>hi</b>"
    assert mine["name"] == theirs["name"] == hello_a["name"]
    assert mine["mine"] is True and theirs["mine"] is False
    assert mine["id"] == theirs["id"]
    assert await other_room.receive_nothing(timeout=0.5)
    stored = await database_sync_to_async(Message.objects.get)(pk=mine["id"])
    assert stored.text == mine["text"] and stored.room_id == room.pk
    for sock in (alice, bob, other_room):
        await sock.disconnect()


async def test_join_and_leave_are_announced_to_the_others(room) -> None:
    alice, _ = await connect(room.slug)
    bob, hello_b = await connect(room.slug)

    joined = await receive(alice)
    assert joined == {"type": "join", "name": hello_b["name"], "count": 2}
    await bob.disconnect()
    left = await receive(alice)
    assert left == {"type": "leave", "name": hello_b["name"], "count": 1}
    await alice.disconnect()


async def test_a_second_tab_keeps_the_name_and_is_not_a_new_arrival(room) -> None:
    key = await session_for("허재")
    alice, _ = await connect(room.slug, session_key=await session_for("허웅"))
    tab1, hello1 = await connect(room.slug, session_key=key)
    assert await receive(alice) == {"type": "join", "name": "허재", "count": 2}
    tab2, hello2 = await connect(room.slug, session_key=key)
    assert hello1["name"] == hello2["name"] == "허재"
    assert hello2["count"] == 2  # one visitor, two tabs
    await tab1.disconnect()
    assert await alice.receive_nothing(timeout=0.5)  # one tab is still open
    await tab2.disconnect()
    assert (await receive(alice))["type"] == "leave"
    await alice.disconnect()


async def test_a_new_session_gets_a_random_name_that_is_saved(room) -> None:
    key = await session_for(None)
    sock, hello = await connect(room.slug, session_key=key)
    await sock.disconnect()
    session = await database_sync_to_async(SessionStore)(session_key=key)
    saved = await database_sync_to_async(session.get)(SESSION_NAME_KEY)
    assert saved == hello["name"]
    again, hello_again = await connect(room.slug, session_key=key)
    assert hello_again["name"] == hello["name"]
    await again.disconnect()


async def test_a_name_in_use_by_another_visitor_is_not_given_twice(room) -> None:
    first, _ = await connect(room.slug, session_key=await session_for("허훈"))
    second, hello = await connect(room.slug, session_key=await session_for("허훈"))
    assert hello["name"] != "허훈" and hello["name"].startswith("허훈")
    await first.disconnect()
    await second.disconnect()


async def test_rename_checks_the_rules_and_tells_everyone(room) -> None:
    key = await session_for("서장훈")
    alice, _ = await connect(room.slug, session_key=key)
    bob, hello_b = await connect(room.slug)
    await receive(alice)  # bob's join

    await alice.send_json_to({"type": "rename", "name": hello_b["name"]})
    assert (await receive(alice))["code"] == "name_taken"
    for bad in ("x", "<script>", "a" * 40, 12, "허웅\u200b", "이름!"):
        await alice.send_json_to({"type": "rename", "name": bad})
        assert (await receive(alice))["code"] == "name_invalid", bad

    await alice.send_json_to({"type": "rename", "name": "농구 왕"})
    assert await receive(alice) == {
        "type": "rename",
        "old": "서장훈",
        "name": "농구 왕",
        "mine": True,
    }
    renamed = await receive(bob)
    assert renamed["mine"] is False, renamed
    await alice.send_json_to({"type": "message", "text": "새 이름"})
    assert (await receive(bob))["name"] == "농구 왕"

    session = await database_sync_to_async(SessionStore)(session_key=key)
    assert await database_sync_to_async(session.get)(SESSION_NAME_KEY) == "농구 왕"
    await alice.disconnect()
    await bob.disconnect()


async def test_sending_too_fast_gets_a_rate_limit_error(room, settings) -> None:
    settings.TALK_RATE_LIMIT_MESSAGES = 3
    sock, _ = await connect(room.slug)
    for n in range(4):
        await sock.send_json_to({"type": "message", "text": f"m{n}"})
    frames = [await receive(sock) for _ in range(4)]
    # The error comes straight back; the messages make a trip through Redis.
    errors = [f for f in frames if f["type"] == "error"]
    assert sorted(f["type"] for f in frames) == ["error"] + ["message"] * 3
    assert errors[0]["code"] == "rate_limited" and errors[0]["detail"]
    assert await database_sync_to_async(Message.objects.filter(room=room).count)() == 3
    await sock.disconnect()


async def test_the_rate_limit_per_address_spans_connections(room, settings) -> None:
    settings.TALK_RATE_LIMIT_MESSAGES = 0
    settings.TALK_RATE_LIMIT_IP_MESSAGES = 2
    settings.TALK_RATE_LIMIT_SECONDS = 3600  # no window boundary mid-test
    address = (f"10.9.{int(time.time()) % 250}.{room.pk % 250}", 1)
    one, _ = await connect(room.slug, client=address)
    two, _ = await connect(room.slug, client=address)
    await receive(one)  # two's join
    await one.send_json_to({"type": "message", "text": "1"})
    await receive_type(one, "message")
    await two.send_json_to({"type": "message", "text": "2"})
    await receive_type(two, "message")
    await two.send_json_to({"type": "message", "text": "3"})
    assert (await receive_type(two, "error"))["code"] == "rate_limited"
    await one.disconnect()
    await two.disconnect()


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"text": "not json"}, "bad_frame"),
        ({"text": "[1, 2]"}, "bad_frame"),
        ({"text": '{"type": "dance"}'}, "bad_frame"),
        ({"text": '{"type": "message"}'}, "empty"),
        ({"text": '{"type": "message", "text": "   "}'}, "empty"),
        ({"text": '{"type": "message", "text": {"a": 1}}'}, "empty"),
        ({"text": '{"type": "resume", "after": "x"}'}, "bad_frame"),
        ({"text": '{"type": "resume", "after": -1}'}, "bad_frame"),
        ({"text": "[" * 100_000}, "too_large"),
        ({"bytes": b"\x00\x01binary"}, "bad_frame"),
    ],
)
async def test_a_bad_frame_gets_an_error_and_the_connection_keeps_working(
    room, payload, code
) -> None:
    sock, _ = await connect(room.slug)
    if "text" in payload:
        await sock.send_to(text_data=payload["text"])
    else:
        await sock.send_to(bytes_data=payload["bytes"])
    error = await receive(sock)
    assert error["type"] == "error" and error["code"] == code and error["detail"]
    await sock.send_json_to({"type": "message", "text": "still here"})
    assert (await receive(sock))["text"] == "still here"
    await sock.disconnect()


async def test_a_message_over_the_length_limit_is_refused(room, settings) -> None:
    settings.TALK_MAX_MESSAGE_LENGTH = 10
    sock, _ = await connect(room.slug)
    await sock.send_json_to({"type": "message", "text": "가" * 11})
    assert (await receive(sock))["code"] == "too_long"
    await sock.send_json_to({"type": "message", "text": "가" * 10})
    assert (await receive(sock))["text"] == "가" * 10
    await sock.disconnect()


async def test_resume_sends_what_a_client_missed_before_the_history(
    room, settings
) -> None:
    settings.TALK_HISTORY_SIZE = 2
    first = await store(room, "seen before the reconnect")
    for text in ("missed 1", "missed 2", "recent 1", "recent 2"):
        await store(room, text)
    sock, hello = await connect(room.slug)
    assert [m["text"] for m in hello["history"]] == ["recent 1", "recent 2"]
    await sock.send_json_to({"type": "resume", "after": first.pk})
    frames = [await receive(sock), await receive(sock)]
    assert [f["text"] for f in frames] == ["missed 1", "missed 2"]
    assert await receive(sock) == {"type": "resumed", "count": 2}
    assert await sock.receive_nothing(timeout=0.5)  # the history is not repeated
    await sock.send_json_to({"type": "resume", "after": hello["history"][0]["id"]})
    assert await receive(sock) == {"type": "resumed", "count": 0}
    assert await sock.receive_nothing(timeout=0.5)
    await sock.disconnect()


async def test_deleting_a_message_removes_it_from_connected_clients(room) -> None:
    sock, _ = await connect(room.slug)
    await sock.send_json_to({"type": "message", "text": "oops"})
    sent = await receive(sock)
    message = await database_sync_to_async(Message.objects.select_related("room").get)(
        pk=sent["id"]
    )
    await database_sync_to_async(services.chat_message_delete)(message=message, by=None)
    assert await receive(sock) == {"type": "deleted", "id": sent["id"]}
    await sock.disconnect()
    again, hello = await connect(room.slug)
    assert hello["history"] == []
    await again.disconnect()


async def test_a_blocked_session_is_refused_and_told_why(room) -> None:
    key = await session_for("이상민")
    sock, _ = await connect(room.slug, session_key=key)
    await sock.send_json_to({"type": "message", "text": "spam"})
    sent = await receive(sock)
    message = await database_sync_to_async(Message.objects.get)(pk=sent["id"])
    await database_sync_to_async(services.block_create)(
        session_hash=message.session_hash
    )

    await sock.send_json_to({"type": "message", "text": "more spam"})
    assert (await receive(sock))["code"] == "blocked"
    assert (await sock.receive_output(timeout=5))["code"] == 4403

    again = await open_socket(room.slug, session_key=key)
    connected, _ = await again.connect(timeout=10)
    assert connected  # accepted only to say why
    assert (await receive(again))["code"] == "blocked"
    assert (await again.receive_output(timeout=5))["code"] == 4403
    assert await database_sync_to_async(Message.objects.count)() == 1


async def test_an_unknown_room_is_refused(transactional_db) -> None:
    sock = await open_socket("no-such-room")
    connected, _ = await sock.connect(timeout=10)
    assert connected
    assert (await receive(sock))["code"] == "not_found"
    assert (await sock.receive_output(timeout=5))["code"] == 4404


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ((), "없는 방입니다."),
        (((b"accept-language", b"en-US,en;q=0.9"),), "There is no such room."),
        # The switcher's cookie wins over the browser's languages.
        (
            ((b"accept-language", b"en"), (b"cookie", b"django_language=ko")),
            "없는 방입니다.",
        ),
        (((b"cookie", b"django_language=en"),), "There is no such room."),
    ],
)
async def test_error_frames_speak_the_visitors_language(headers, detail) -> None:
    sock = await open_socket("no-such-room", headers=headers)
    connected, _ = await sock.connect(timeout=10)
    assert connected
    frame = await receive(sock)
    assert (frame["code"], frame["detail"]) == ("not_found", detail)


@pytest.mark.parametrize("origin", [b"https://evil.example", None])
async def test_a_foreign_or_missing_origin_is_refused(room, origin) -> None:
    sock = await open_socket(room.slug, origin=origin)
    connected, _ = await sock.connect(timeout=10)
    assert not connected
    assert await database_sync_to_async(Message.objects.count)() == 0


async def test_a_dead_replicas_connections_stop_counting(room, settings) -> None:
    settings.TALK_PRESENCE_HEARTBEAT_SECONDS = 0.2
    sock, hello = await connect(room.slug)
    assert hello["count"] == 1
    # A connection registered by a replica that then died: it is never
    # refreshed again.
    state = get_state()
    await state.join(room=room.slug, channel="ghost", sid="ghost", name="유령")
    redis = get_redis()
    await redis.zadd(f"talk:online:{room.slug}", {"ghost": time.time() + 3})
    assert await receive_type(sock, "presence") == {"type": "presence", "count": 2}
    assert await receive_type(sock, "presence") == {"type": "presence", "count": 1}
    await sock.disconnect()


async def test_a_message_the_layer_never_delivered_is_filled_from_the_database(
    room, settings
) -> None:
    settings.TALK_PRESENCE_HEARTBEAT_SECONDS = 0.2
    sock, _ = await connect(room.slug)

    @database_sync_to_async
    def store_silently(text: str) -> Message:
        # As if the PUBLISH was lost while a replica resubscribed.
        locked = Room.objects.get(pk=room.pk)
        Room.objects.filter(pk=room.pk).update(last_seq=locked.last_seq + 1)
        return Message.objects.create(
            room=room, seq=locked.last_seq + 1, name="x", text=text, session_hash="s"
        )

    await store_silently("lost 1")
    await store(room, "delivered")
    frames = [await receive(sock), await receive(sock)]
    assert [f["text"] for f in frames] == ["lost 1", "delivered"]

    # A lost last message arrives with the next heartbeat.
    lost = await store_silently("lost 2")
    await get_state().set_head(room=room.slug, seq=lost.seq)
    assert (await receive(sock))["text"] == "lost 2"
    assert await sock.receive_nothing(timeout=0.5)
    await sock.disconnect()


async def test_many_senders_are_delivered_in_order_without_duplicates(room) -> None:
    socks = [(await connect(room.slug))[0] for _ in range(4)]
    for sock in socks:
        while not await sock.receive_nothing(timeout=0.3):
            await sock.receive_from()

    async def send_all(n: int, sock) -> None:
        for i in range(5):
            await sock.send_json_to({"type": "message", "text": f"{n}:{i}"})

    await asyncio.gather(*(send_all(n, s) for n, s in enumerate(socks)))
    for sock in socks:
        frames = [await receive_type(sock, "message") for _ in range(20)]
        ids = [f["id"] for f in frames]
        assert ids == sorted(set(ids))
        for n in range(4):
            mine = [f["text"] for f in frames if f["text"].startswith(f"{n}:")]
            assert mine == [f"{n}:{i}" for i in range(5)]
        assert await sock.receive_nothing(timeout=0.3)
    for sock in socks:
        await sock.disconnect()


async def test_a_client_gone_mid_send_does_not_kill_the_consumer() -> None:
    from talk.consumers import ChatConsumer

    consumer = ChatConsumer()
    consumer.delivery, consumer.sid, consumer.last_seq = asyncio.Lock(), "me", 0
    sent: list[str] = []

    async def send(text_data: str | None = None, **kwargs: object) -> None:
        if sent:
            raise RuntimeError("Attempt to send on a closed protocol")
        sent.append(text_data or "")

    consumer.send = send  # type: ignore[method-assign]
    event = {"type": "chat.message", "id": 1, "seq": 1, "name": "a", "text": "t"}
    event |= {"ts": "2026-11-25T00:00:00+09:00", "sid": "x"}
    await consumer.chat_message(event)
    await consumer.chat_message({**event, "id": 2, "seq": 2})  # the peer is gone
    await consumer.chat_message({**event, "id": 3, "seq": 3})
    assert len(sent) == 1 and consumer.closing


def recording_consumer(*, batching: bool) -> tuple[Any, list[str]]:
    """A consumer that records the frames it sends, with no connection."""
    from talk.consumers import ChatConsumer

    consumer = ChatConsumer()
    consumer.delivery, consumer.sid, consumer.last_seq = asyncio.Lock(), "me", 0
    consumer.batching = batching
    sent: list[str] = []

    async def send(text_data: str | None = None, **kwargs: object) -> None:
        sent.append(text_data or "")

    consumer.send = send  # type: ignore[method-assign]
    return consumer, sent


async def test_events_ready_together_go_out_as_one_batch_frame_in_order() -> None:
    from talk.protocol import EventFrames

    consumer, sent = recording_consumer(batching=True)  # connected with ?batch=1
    base = {"type": "chat.message", "name": "a", "ts": "2026-11-25T00:00:00+09:00"}
    events = [
        {**base, "id": n, "seq": n, "text": f"t{n}", "sid": "me" if n == 2 else "x"}
        for n in (1, 2, 3)
    ]
    await consumer.room_events([(event, EventFrames(event)) for event in events])
    await consumer.room_events([(events[0], EventFrames(events[0]))])  # seen
    [batch] = [json.loads(text) for text in sent]
    assert batch["type"] == "batch"
    assert [(f["text"], f["mine"]) for f in batch["frames"]] == [
        ("t1", False),
        ("t2", True),
        ("t3", False),
    ]
    assert consumer.frames_sent == 1  # one frame to acknowledge

    later = {**base, "id": 4, "seq": 4, "text": "t4", "sid": "x"}
    await consumer.room_events([(later, EventFrames(later))])
    assert json.loads(sent[-1])["type"] == "message"  # alone: a plain frame


async def test_a_client_that_did_not_ask_for_batches_gets_every_frame_alone() -> None:
    """Clients written before batch frames keep working (docs/talk-protocol.md)."""
    from talk.protocol import EventFrames

    consumer, sent = recording_consumer(batching=False)
    base = {"type": "chat.message", "name": "a", "ts": "2026-11-25T00:00:00+09:00"}
    events = [
        {**base, "id": n, "seq": n, "text": f"t{n}", "sid": "x"} for n in (1, 2, 3)
    ]
    await consumer.room_events([(event, EventFrames(event)) for event in events])
    frames = [json.loads(text) for text in sent]
    assert [(f["type"], f["text"]) for f in frames] == [
        ("message", "t1"),
        ("message", "t2"),
        ("message", "t3"),
    ]
    assert consumer.frames_sent == 3


async def test_without_batch_in_the_url_a_burst_comes_frame_by_frame(room) -> None:
    """Through the real stack: a client that did not ask gets no batch frame."""
    communicator = await open_socket(room.slug, query="")
    connected, _ = await communicator.connect(timeout=10)
    assert connected
    assert (await communicator.receive_json_from(timeout=10))["type"] == "hello"

    @database_sync_to_async
    def burst() -> None:
        for n in range(20):
            services.chat_message_create(
                room=room, name="허웅", text=f"m{n}", session_hash="s", ip_hash="ip"
            )

    await burst()
    frames = [await communicator.receive_json_from(timeout=10) for _ in range(20)]
    await communicator.disconnect()
    assert [(f["type"], f["text"]) for f in frames] == [
        ("message", f"m{n}") for n in range(20)
    ]
