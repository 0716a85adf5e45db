"""A replica's fan-out hub: one channel-layer member per room and process.

Before (issue 8), every connection joined the room's group itself, so the
layer handed each event to every connection separately and each one decoded
it, ordered it and encoded its own frame. At 10,000 deliveries/s that
per-connection work filled the replica's one Python process.

Now the first connection to a room on this process starts the room's hub:
it joins the group with a channel of its own, receives each event once,
puts messages in room order (reorder window, gap fill from talk.backlog),
encodes each frame variant once (talk.protocol.EventFrames) and hands the
text to every local connection in process, with no layer round trip. The
last connection to leave stops it and leaves the group. Every replica still
has its own member, so every replica sees every event.

Events are handed out in rounds: a task moves what the layer delivers to a
list, and each round takes everything that arrived while the previous one
went out. A round's events reach each connection together, so it sends them
as one frame (a `batch` when there are several; the whole-frame bytes go
straight to daphne's socket, talk.wire). Under load that is fewer frames,
writes and client wake-ups per message; when the room is quiet every round
is one event. Nothing ever waits to make a round bigger.

The hub never waits for one connection: a connection busy with something
else (its hello, a resume, a gap fill) queues the events and sends them when
done (ChatConsumer.room_events), and daphne writes a frame to the socket
without waiting for the peer; the acknowledgement limits deal with a client
that does not read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from typing import Any, Protocol

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from talk import selectors
from talk.backlog import get_backlog
from talk.broadcast import room_group
from talk.models import Room
from talk.protocol import Batches, EventFrames
from talk.state import get_state

logger = logging.getLogger(__name__)

Event = dict[str, Any]


class Member(Protocol):
    channel_name: str

    async def room_events(self, items: list[tuple[Event, EventFrames]]) -> None: ...


class RoomHub:
    """The room's events on this process, in room order, for its connections."""

    def __init__(self, room: Room, hubs: dict[str, RoomHub]) -> None:
        self.room = room
        self.slug = room.slug
        self.hubs = hubs
        self.members: dict[str, Member] = {}
        self.channel = ""
        # The last seq handed to members: they get every visible message
        # after it, once and in order.
        self.last_seq = 0
        # Messages that arrived ahead of a missing seq, held for the reorder
        # window (seq -> event), and the task that fills the gap when it ends.
        self.held: dict[int, Event] = {}
        self.reorder: asyncio.Task[None] | None = None
        self.ordering = asyncio.Lock()
        # Events from the layer not handled yet (filled by _pump), and those
        # put in order but not yet handed to the members (see _flush).
        self.arrived: list[Event] = []
        self.arrival = asyncio.Event()
        self.outbox: list[tuple[Event, EventFrames]] = []
        # Batch frames built during the current flush, shared by the members.
        self.batches: Batches = {}
        self.pump: asyncio.Task[None] | None = None
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.task = asyncio.create_task(self._run())
        self.watch: asyncio.Task[None] | None = None

    # --- life cycle ---------------------------------------------------------

    async def _start(self) -> None:
        layer = get_channel_layer()
        assert layer is not None, "CHANNEL_LAYERS is not configured"  # noqa: S101
        self.channel = await layer.new_channel()
        await layer.group_add(room_group(self.slug), self.channel)
        # Read after joining the group: every message after this seq is
        # broadcast after the subscription, so it reaches the hub.
        self.last_seq = await database_sync_to_async(selectors.room_last_seq)(
            room=self.room
        )

    async def _run(self) -> None:
        try:
            await self._start()
        except BaseException as error:
            self._forget()
            cancelled = isinstance(error, asyncio.CancelledError)
            if cancelled:
                self.ready.cancel()
            else:
                self.ready.set_exception(error)
            if self.channel:
                await self._leave_group()
            if cancelled:
                raise
            return
        self.ready.set_result(None)
        self.watch = asyncio.create_task(self._watch())
        self.pump = asyncio.create_task(self._pump())
        while True:
            await self.arrival.wait()
            self.arrival.clear()
            # Whatever came in while the last round went out is handled as
            # one round: each connection then gets it as one frame (a batch).
            # Nothing waits to make a round bigger.
            events, self.arrived = self.arrived, []
            for event in events:
                try:
                    await self.on_event(event)
                except Exception:
                    # Whatever a fill could not send, the heartbeats fetch.
                    logger.exception("talk: hub could not deliver an event")
            await self._flush()
            # Neither a queued event nor a send suspends, so without this a
            # burst would be fanned out in one go: the event loop would not
            # write to the sockets nor read the clients' acks until it ends,
            # and every connection would look too slow (close 4408).
            await asyncio.sleep(0)

    async def _pump(self) -> None:
        """Move the layer's events to self.arrived as they come."""
        layer = get_channel_layer()
        assert layer is not None  # noqa: S101
        while True:
            try:
                event = await layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                # The core layer raises while Redis is away; the pub/sub
                # layer reconnects by itself. Either way, keep listening.
                logger.warning("talk: hub receive failed", exc_info=True)
                await asyncio.sleep(1)
                continue
            self.arrived.append(event)
            self.arrival.set()

    def add(self, member: Member) -> None:
        self.members[member.channel_name] = member

    def discard(self, member: Member) -> None:
        """Forget a connection; the last one to go stops the hub."""
        if self.members.pop(member.channel_name, None) is None or self.members:
            return
        self._forget()
        task = asyncio.create_task(self._stop())
        _closing.add(task)
        task.add_done_callback(_closing.discard)

    def _forget(self) -> None:
        # At once, not after the layer has answered: a connection arriving
        # from now on starts a new hub rather than join a stopping one.
        if self.hubs.get(self.slug) is self:
            del self.hubs[self.slug]

    async def _stop(self) -> None:
        for task in (self.task, self.pump, self.watch, self.reorder):
            if task is not None:
                task.cancel()
        # The heartbeat first, so that a group_add of its in flight cannot
        # land after the discard; then the group; the receive loop last: the
        # core layer may take seconds (its BLPOP timeout) to let it go.
        if self.watch is not None:
            with contextlib.suppress(BaseException):
                await self.watch
        started = self.ready.done() and not self.ready.cancelled()
        if started and self.ready.exception() is None:
            await self._leave_group()
        for task in (self.task, self.pump):
            if task is not None:
                with contextlib.suppress(BaseException):
                    await task

    async def _leave_group(self) -> None:
        layer = get_channel_layer()
        try:
            await layer.group_discard(room_group(self.slug), self.channel)  # type: ignore[union-attr]
        except Exception:
            # The core layer's membership expires by itself (group_expiry);
            # the pub/sub layer has no subscription left to drop.
            logger.warning("talk: hub could not leave its group", exc_info=True)

    async def _watch(self) -> None:
        """Stay in the group and catch up with messages the layer lost."""
        layer = get_channel_layer()
        assert layer is not None  # noqa: S101
        while True:
            await asyncio.sleep(settings.TALK_PRESENCE_HEARTBEAT_SECONDS)
            try:
                # Idempotent; renews the core layer's membership, which
                # otherwise expires after its group_expiry (a day) while the
                # hub may live for weeks, and restores it if Redis lost it.
                await layer.group_add(room_group(self.slug), self.channel)
                head = await get_state().head(room=self.slug)
                if head > self.last_seq:
                    async with self.ordering:
                        if head > self.last_seq:
                            await self._fill_gap(head)
                    await self._flush()
            except Exception:
                logger.warning("talk: hub heartbeat failed", exc_info=True)

    # --- events -------------------------------------------------------------

    async def on_event(self, event: Event) -> None:
        kind = event.get("type")
        if kind == "chat.message":
            await self._on_message(event)
            return
        if kind == "chat.deleted":
            get_backlog().forget(self.slug, event["id"])
        await self._emit(event)

    async def _on_message(self, event: Event) -> None:
        get_backlog().remember(self.slug, event)
        async with self.ordering:
            seq = event["seq"]
            if seq <= self.last_seq:
                return  # already handed out (a gap fill, or a late copy)
            if seq > self.last_seq + 1:
                if settings.TALK_REORDER_WINDOW_MS > 0:
                    # Over two replicas the missing one is usually a few
                    # milliseconds behind: wait for it before asking the DB.
                    self.held[seq] = event
                    if self.reorder is None:
                        self.reorder = asyncio.create_task(self._reorder_wait())
                    return
                await self._fill_gap(seq - 1)
            await self._emit_message(event)
            await self._release_held()
            if not self.held and self.reorder is not None:
                self.reorder.cancel()
                self.reorder = None

    async def _reorder_wait(self) -> None:
        """The window ended with a gap still open: fill it from the database."""
        await asyncio.sleep(settings.TALK_REORDER_WINDOW_MS / 1000)
        async with self.ordering:
            self.reorder = None
            try:
                if self.held:
                    await self._fill_gap(max(self.held))
            except Exception:
                # What is held stays held; the next heartbeat fills the gap.
                logger.exception("talk: filling a gap after the reorder window")
        await self._flush()

    async def _fill_gap(self, upto_seq: int) -> None:
        """Hand out what the layer did not deliver, from the backlog or the DB.

        Call with self.ordering held.
        """
        missed = await get_backlog().between(self.slug, self.last_seq, upto_seq)
        for event in missed:
            await self._emit_message(event)
        # Deleted messages are not in `missed`: their seqs are passed too.
        self.last_seq = max(self.last_seq, upto_seq)
        for seq in [s for s in self.held if s <= self.last_seq]:
            del self.held[seq]
        await self._release_held()

    async def _release_held(self) -> None:
        while self.last_seq + 1 in self.held:
            await self._emit_message(self.held.pop(self.last_seq + 1))

    async def _emit_message(self, event: Event) -> None:
        self.last_seq = event["seq"]
        await self._emit(event)

    async def _emit(self, event: Event) -> None:
        # Handed out by the next _flush, with whatever else is ready by then.
        self.outbox.append((event, EventFrames(event)))

    async def _flush(self) -> None:
        """Hand every event put in order so far to every member, in order."""
        items, self.outbox = self.outbox, []
        if not items:
            return
        self.batches = {}
        # A copy: a connection may leave while its frames are being sent.
        for member in list(self.members.values()):
            try:
                await member.room_events(items)
            except Exception:
                logger.exception("talk: delivering room events to a connection")
        self.batches = {}


# Stopping hubs, kept referenced until they have left their group.
_closing: set[asyncio.Task[None]] = set()

# Tasks and locks belong to an event loop: one set of hubs per loop (a
# server has one).
_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, RoomHub]] = (
    weakref.WeakKeyDictionary()
)


def hubs() -> dict[str, RoomHub]:
    """This process's running hubs by room slug."""
    loop = asyncio.get_running_loop()
    found = _hubs.get(loop)
    if found is None:
        found = _hubs[loop] = {}
    return found


async def hub_join(*, room: Room, member: Member) -> RoomHub:
    """Add a connection to its room's hub (started if need be) once it listens.

    From its return on, the member gets every message after the room's
    last_seq as read then, through member.room_event. Raises what starting
    the hub raised (Redis or the database unavailable).
    """
    running = hubs()
    hub = running.get(room.slug)
    if hub is None:
        hub = running[room.slug] = RoomHub(room, running)
    hub.add(member)
    try:
        await asyncio.shield(hub.ready)
    except BaseException:
        hub.discard(member)
        raise
    return hub
