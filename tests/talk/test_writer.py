"""The room writer stores what senders send meanwhile as one batch (real MariaDB)."""

from __future__ import annotations

import asyncio

import pytest
from django.core.exceptions import ValidationError

from talk import services
from talk.models import Block, Message
from talk.writer import RoomWriter

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def draft(sender: int, n: int, text: str | None = None) -> services.Draft:
    return services.Draft(
        name=f"sender{sender}",
        text=text or f"{sender}:{n}",
        session_hash=f"s{sender}",
        ip_hash=f"i{sender}",
    )


async def test_concurrent_senders_are_stored_in_batches_in_each_senders_order(
    room,
) -> None:
    writer = RoomWriter(room)

    async def sender(k: int) -> list[int]:
        # Like a connection: each message awaited before the next is sent.
        return [(await writer.store(draft(k, n))).seq for n in range(5)]

    seqs = await asyncio.gather(*(sender(k) for k in range(20)))

    for own in seqs:
        assert own == sorted(own)
    assert sorted(s for own in seqs for s in own) == list(range(1, 101))
    # Senders that wrote while a batch was being stored went together.
    assert writer.batches < 100
    stored = [m async for m in Message.objects.filter(room=room).order_by("seq")]
    assert [m.seq for m in stored] == list(range(1, 101))
    assert [m.pk for m in stored] == sorted(m.pk for m in stored)
    for m in stored:
        k, n = m.text.split(":")
        assert m.name == f"sender{k}"


async def test_a_refused_message_fails_alone(room) -> None:
    await Block.objects.acreate(session_hash="s1", reason="spam")
    writer = RoomWriter(room)

    results = await asyncio.gather(
        writer.store(draft(0, 0)),
        writer.store(draft(1, 0)),
        writer.store(draft(2, 0, text="\x00 ")),
        writer.store(draft(3, 0)),
        return_exceptions=True,
    )

    assert isinstance(results[1], services.Blocked)
    assert isinstance(results[2], ValidationError)
    assert [r.seq for r in (results[0], results[3])] == [1, 2]
    assert await Message.objects.filter(room=room).acount() == 2
