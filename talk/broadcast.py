"""The one place that sends events to a room's group on the channel layer."""

from __future__ import annotations

import time
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from talk.state import get_state


def room_group(slug: str) -> str:
    return f"talk.room.{slug}"


async def room_broadcast_async(
    slug: str, event: dict[str, Any], *, seq: int | None = None
) -> None:
    """Send `event` to every connection in the room on every replica.

    A stored message also advances the room's head in the shared state, so a
    consumer that missed the broadcast finds out on its next heartbeat.
    """
    if seq is not None:
        await get_state().set_head(room=slug, seq=seq)
    layer = get_channel_layer()
    # When it was sent, so that a connection can ignore notices older than
    # itself (see ChatConsumer.is_news).
    event = {**event, "at": time.time()}
    assert layer is not None, "CHANNEL_LAYERS is not configured"  # noqa: S101
    await layer.group_send(room_group(slug), event)


def room_broadcast(slug: str, event: dict[str, Any], *, seq: int | None = None) -> None:
    """Synchronous form, for services' on_commit callbacks."""
    async_to_sync(room_broadcast_async)(slug, event, seq=seq)
