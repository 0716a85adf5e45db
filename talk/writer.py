"""Stores a room's chat messages in batches, one per transaction.

Every message takes the room's row lock and a commit (a disk flush), so a
room stored one message at a time tops out at a few hundred messages a
second, less while the same cores do the fan-out. Messages that senders on
this process send while a batch is being stored wait and go together in the
next one: one lock and one flush for all of them. A sender awaits its own
message before handling its next frame, so its messages keep their order.
"""

from __future__ import annotations

import asyncio
import weakref

from channels.db import database_sync_to_async
from django.core.exceptions import ValidationError

from talk import services
from talk.models import Message, Room

Answer = Message | ValidationError | services.Blocked

# On the loop's thread pool, not the one thread every database call shares
# by default: that thread was the limit at 100 messages/s (issue 8).
_store_batch = database_sync_to_async(
    services.chat_messages_store, thread_sensitive=False
)


class RoomWriter:
    def __init__(self, room: Room) -> None:
        self.room = room
        self.waiting: list[tuple[services.Draft, asyncio.Future[Answer]]] = []
        self.task: asyncio.Task[None] | None = None
        self.batches = 0

    async def store(self, draft: services.Draft) -> Message:
        """The stored message (committed), or the error that refused it."""
        answer: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self.waiting.append((draft, answer))
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._drain())
        result = await answer
        if isinstance(result, Exception):
            raise result
        return result

    async def _drain(self) -> None:
        while self.waiting:
            batch, self.waiting = self.waiting, []
            self.batches += 1
            try:
                answers = await _store_batch(
                    room=self.room, drafts=[draft for draft, _ in batch]
                )
            except BaseException as error:  # the database: every sender learns it
                for _, future in batch:
                    if not future.done():
                        future.set_exception(
                            error if isinstance(error, Exception) else RuntimeError()
                        )
                if not isinstance(error, Exception):
                    raise
                continue
            for (_, future), answer in zip(batch, answers, strict=True):
                if not future.done():
                    future.set_result(answer)


_writers: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[int, RoomWriter]
] = weakref.WeakKeyDictionary()


def room_writer(room: Room) -> RoomWriter:
    """This process's writer for `room` (one per event loop, like the hubs)."""
    writers = _writers.setdefault(asyncio.get_running_loop(), {})
    writer = writers.get(room.pk)
    if writer is None:
        writer = writers[room.pk] = RoomWriter(room)
    return writer
