from __future__ import annotations

from datetime import timedelta

from django.db.models import Q, QuerySet

from talk.models import Block, Message, Room


def room_list() -> QuerySet[Room]:
    return Room.objects.order_by("name")


def room_get_by_slug(*, slug: str) -> Room | None:
    return Room.objects.filter(slug=slug).first()


def chat_message_list_recent(
    *, room: Room, limit: int, upto_seq: int | None = None
) -> list[Message]:
    """The room's newest visible messages (up to a sequence number), oldest first."""
    messages = Message.objects.visible().filter(room=room)
    if upto_seq is not None:
        messages = messages.filter(seq__lte=upto_seq)
    newest = messages.order_by("-seq")[:limit]
    return list(reversed(newest))


def chat_message_list_after(
    *, room: Room, after_id: int, before_id: int, limit: int
) -> QuerySet[Message]:
    """Visible messages with after_id < id < before_id, oldest first."""
    return (
        Message.objects.visible()
        .filter(room=room, pk__gt=after_id, pk__lt=before_id)
        .order_by("seq")[:limit]
    )


def chat_message_list_between(
    *, room_slug: str, after_seq: int, upto_seq: int
) -> QuerySet[Message]:
    """Visible messages with after_seq < seq <= upto_seq (a consumer's gap)."""
    return (
        Message.objects.visible()
        .filter(room__slug=room_slug, seq__gt=after_seq, seq__lte=upto_seq)
        .order_by("seq")
    )


def room_last_seq(*, room: Room) -> int:
    return Room.objects.filter(pk=room.pk).values_list("last_seq", flat=True).get()


def block_is_active(*, session_hash: str, ip_hash: str) -> bool:
    match = Q()
    if session_hash:
        match |= Q(session_hash=session_hash)
    if ip_hash:
        match |= Q(ip_hash=ip_hash)
    if not match:
        return False
    return Block.objects.active().filter(match).exists()


def over_capacity_list(*, days: int) -> list[tuple[str, str, int]]:
    """(day, room, connections closed as too slow) for the last `days` days.

    From the shared room state (talk.state), newest day first. Without Redis
    the counts live in the server process, so this process sees none.
    """
    from asgiref.sync import async_to_sync
    from django.utils import timezone

    from talk.state import get_state

    today = timezone.localdate()
    wanted = [(today - timedelta(days=n)).isoformat() for n in range(days)]

    async def read() -> dict[tuple[str, str], int]:
        return await get_state().over_capacity(days=wanted)

    counts = async_to_sync(read)()
    return sorted(
        ((day, room, n) for (room, day), n in counts.items()),
        key=lambda row: (row[0], row[1]),
        reverse=True,
    )
