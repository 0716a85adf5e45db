from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from talk import services
from talk.models import Block, Message, Room

pytestmark = pytest.mark.django_db(transaction=True)


def create(room: Room, text: str = "안녕", **kwargs) -> Message:
    fields = {"name": "허웅", "session_hash": "s1", "ip_hash": "i1", **kwargs}
    return services.chat_message_create(room=room, text=text, **fields)


def test_messages_get_consecutive_sequence_numbers_per_room(room, make_room) -> None:
    other = make_room()
    first, second = create(room), create(room)
    elsewhere = create(other)
    assert (first.seq, second.seq, elsewhere.seq) == (1, 2, 1)
    assert first.pk < second.pk
    room.refresh_from_db()
    assert room.last_seq == 2


def test_message_text_is_stripped_of_control_characters(room) -> None:
    message = create(room, "  hi\u202e there\x00\r\nnext  ")
    assert message.text == "hi there\nnext"


@pytest.mark.parametrize("text", ["", "   ", "\x00\x01", None, 5])
def test_an_empty_message_is_refused_and_not_stored(room, text) -> None:
    with pytest.raises(ValidationError) as caught:
        create(room, text)
    assert caught.value.code == "empty"
    assert not Message.objects.exists()


def test_a_message_over_the_limit_is_refused(room, settings) -> None:
    settings.TALK_MAX_MESSAGE_LENGTH = 5
    with pytest.raises(ValidationError) as caught:
        create(room, "가나다라마바")
    assert caught.value.code == "too_long"
    assert create(room, "가나다라마").text == "가나다라마"
    assert Message.objects.count() == 1


def test_a_blocked_address_cannot_post(room) -> None:
    services.block_create(ip_hash="i1", reason="spam")
    with pytest.raises(services.Blocked):
        create(room)
    assert create(room, ip_hash="i2", session_hash="s2").pk


def test_an_expired_block_no_longer_applies(room) -> None:
    block = services.block_create(session_hash="s1")
    assert block.expires_at is not None
    Block.objects.filter(pk=block.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert create(room).pk


def test_a_block_needs_a_session_or_an_address() -> None:
    with pytest.raises(ValidationError):
        services.block_create(reason="nobody")
    with pytest.raises(IntegrityError):
        Block.objects.create(reason="nobody")


def test_deleting_marks_the_message_and_keeps_the_row(room, admin_user) -> None:
    message = create(room)
    services.chat_message_delete(message=message, by=admin_user)
    message.refresh_from_db()
    assert message.is_deleted and message.deleted_by == admin_user
    assert not Message.objects.visible().exists()


def test_purge_removes_only_old_messages_and_expired_blocks(room) -> None:
    old, new = create(room, "old"), create(room, "new")
    Message.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=31)
    )
    expired = services.block_create(session_hash="x")
    Block.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - timedelta(days=1)
    )
    kept = services.block_create(session_hash="y")
    purged = services.chat_messages_purge(
        older_than=timezone.now() - timedelta(days=30)
    )
    assert purged == 1
    assert list(Message.objects.values_list("pk", flat=True)) == [new.pk]
    assert list(Block.objects.values_list("pk", flat=True)) == [kept.pk]


def test_storing_alone_leaves_the_broadcast_to_the_caller(room) -> None:
    # The chat consumer stores in a database thread and broadcasts on its
    # event loop; chat_message_create does both.
    from channels.layers import get_channel_layer

    from talk.broadcast import room_group

    async def events_after(action) -> list[dict]:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(room_group(room.slug), channel)
        try:
            await sync_to_async(action)()
            received = []
            while True:
                try:
                    received.append(await asyncio.wait_for(layer.receive(channel), 1))
                except TimeoutError:
                    return received
        finally:
            await layer.group_discard(room_group(room.slug), channel)

    stored = async_to_sync(events_after)(
        lambda: services.chat_message_store(
            room=room, name="허웅", text="hi", session_hash="s1", ip_hash="i1"
        )
    )
    assert stored == []
    assert Message.objects.get(seq=1).text == "hi"

    created = async_to_sync(events_after)(lambda: create(room, "again"))
    assert [(e["type"], e["seq"]) for e in created] == [("chat.message", 2)]
