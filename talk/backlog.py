"""A replica's recent room messages, so that gap fills share one query.

Every connection of a replica reads a room's events from the same
subscription, so when one of them sees a gap (seq N+2 before N+1) they all
do, at the same moment. Each asking the database for the same rows was the
query storm of issue 8. Here the replica remembers the message events it has
seen, and fetches a missing range from the database once per room at a time
while the other connections wait for that one query.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import OrderedDict
from typing import Any

from channels.db import database_sync_to_async

from talk import selectors
from talk.protocol import message_event

Event = dict[str, Any]

# Seqs kept per room: far more than a gap spans while connected (a longer
# one, e.g. after a Redis outage, goes to the database as before).
KEEP = 2000


class RoomBacklog:
    def __init__(self) -> None:
        self.rooms: dict[str, OrderedDict[int, Event]] = {}
        self.seq_of: dict[str, dict[int, int]] = {}  # room -> message id -> seq
        self.fetching: dict[str, asyncio.Future[None]] = {}

    def remember(self, slug: str, event: Event) -> None:
        events = self.rooms.setdefault(slug, OrderedDict())
        if event["seq"] in events:
            return
        events[event["seq"]] = event
        ids = self.seq_of.setdefault(slug, {})
        ids[event["id"]] = event["seq"]
        while len(events) > KEEP:
            _, oldest = events.popitem(last=False)
            ids.pop(oldest["id"], None)

    def forget(self, slug: str, message_id: int) -> None:
        """A deleted message must not be handed out by a later gap fill."""
        seq = self.seq_of.get(slug, {}).pop(message_id, None)
        if seq is not None:
            self.rooms[slug].pop(seq, None)

    def _cached(self, slug: str, after: int, upto: int) -> list[Event] | None:
        events = self.rooms.get(slug, {})
        found = [events.get(seq) for seq in range(after + 1, upto + 1)]
        return None if None in found else found  # type: ignore[return-value]

    async def between(self, slug: str, after: int, upto: int) -> list[Event]:
        """Visible message events with after < seq <= upto, in seq order."""
        if upto - after <= KEEP:
            found = self._cached(slug, after, upto)
            if found is not None:
                return found
            pending = self.fetching.get(slug)
            if pending is not None:
                # Another connection is already asking: its rows will do.
                await asyncio.shield(pending)
                found = self._cached(slug, after, upto)
                if found is not None:
                    return found
        return await self._fetch(slug, after, upto)

    async def _fetch(self, slug: str, after: int, upto: int) -> list[Event]:
        done = asyncio.get_running_loop().create_future()
        self.fetching.setdefault(slug, done)
        try:
            events = await database_sync_to_async(_between)(slug, after, upto)
            for event in events:
                self.remember(slug, event)
            return events
        finally:
            if self.fetching.get(slug) is done:
                del self.fetching[slug]
            done.set_result(None)


def _between(slug: str, after: int, upto: int) -> list[Event]:
    messages = selectors.chat_message_list_between(
        room_slug=slug, after_seq=after, upto_seq=upto
    )
    return [message_event(m) for m in messages]


# Futures belong to an event loop: one backlog per loop (a server has one).
_backlogs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, RoomBacklog] = (
    weakref.WeakKeyDictionary()
)


def get_backlog() -> RoomBacklog:
    loop = asyncio.get_running_loop()
    backlog = _backlogs.get(loop)
    if backlog is None:
        backlog = _backlogs[loop] = RoomBacklog()
    return backlog
