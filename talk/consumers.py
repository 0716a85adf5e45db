"""The room's WebSocket endpoint: speaks docs/talk-protocol.md, nothing else.

Writes go through talk.services, reads through talk.selectors, events to the
room through talk.broadcast and from it through the replica's hub (talk.hub);
presence and rate limits through talk.state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import get_supported_language_variant
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header
from redis.exceptions import RedisError

from blog_site.net import client_ip
from talk import selectors, services
from talk.backlog import get_backlog
from talk.broadcast import room_broadcast_async
from talk.hub import RoomHub, hub_join
from talk.identity import SESSION_NAME_KEY, anon_hash, session_name
from talk.models import Message, Room
from talk.names import InvalidName, alternatives, clean_name, random_name
from talk.protocol import (
    BATCH_MAX,
    EventFrames,
    Frame,
    ProtocolError,
    ack_count,
    batch_frame,
    dumps,
    error_frame,
    message_event,
    message_frame,
    parse_frame,
    resume_after,
)
from talk.state import get_state
from talk.wire import DirectWire, attach
from talk.writer import room_writer

logger = logging.getLogger(__name__)

# Close codes (applications may only send 1000 and 3000-4999, so these mirror
# HTTP and RFC 6455 codes in the 4000 range). 4403/4404 tell the client not to
# reconnect; 4013 ("try again later", after 1013) means a dependency (Redis)
# failed and reconnecting with backoff will work once it is back.
CLOSE_BLOCKED = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_TRY_AGAIN = 4013
# The client fell too far behind: it did not acknowledge TALK_MAX_UNACKED
# frames (or TALK_MAX_UNACKED_BYTES). Reconnecting and resuming works; the
# server just will not buffer without bound for a client that is not reading.
CLOSE_OVER_CAPACITY = 4408

# Redis errors, and the OSError family that a refused connection raises.
UNAVAILABLE = (RedisError, OSError)


def language_of(scope: dict[str, Any]) -> str:
    """The UI language a handshake asks for: the switcher's cookie, then
    Accept-Language, then the site's default (as LocaleMiddleware decides)."""
    candidates = [scope.get("cookies", {}).get(settings.LANGUAGE_COOKIE_NAME) or ""]
    headers = dict(scope.get("headers") or [])
    accept = headers.get(b"accept-language", b"").decode("latin-1")
    candidates += [lang for lang, _q in parse_accept_lang_header(accept)]
    for lang in candidates:
        if lang and lang != "*":
            with contextlib.suppress(LookupError):
                return get_supported_language_variant(lang)
    return settings.LANGUAGE_CODE


class ChatConsumer(AsyncWebsocketConsumer):
    # No channel of its own on the layer: room events reach the connection
    # through its replica's hub (talk.hub), so a per-connection subscription
    # (pub/sub) or receive loop (core layer) would only cost Redis work on
    # every connect and leave.
    channel_layer_alias = None
    slug: str = ""
    room: Room | None = None
    name: str = ""
    sid: str = ""
    ip_hash: str = ""
    session_key: str | None = None
    joined: bool = False
    joined_at: float = 0.0
    closing: bool = False
    count: int = 0
    last_seq: int = 0
    # The oldest message the hello carried: a resume only needs what lies
    # before it, everything after is delivered live.
    history_first_id: int | None = None
    heartbeat: asyncio.Task[None] | None = None
    # Slow-consumer accounting: frames sent on this connection, how many the
    # client has acknowledged, and the sizes of those it has not.
    frames_sent: int = 0
    frames_acked: int = 0
    unacked_bytes: int = 0
    # The replica's hub for this room (talk.hub), once joined.
    hub: RoomHub | None = None
    # The over-capacity count in flight, kept referenced until it is done.
    counting: asyncio.Task[None] | None = None
    # Handles the client's frames other than acks (see receive).
    worker: asyncio.Task[None] | None = None
    # Writes encoded frames straight to daphne's socket (talk.wire); None
    # under any other server, and until the connection is accepted.
    wire: DirectWire | None = None
    # Whether the client asked for batch frames (`?batch=1`, protocol:
    # `batch`); a client written before them gets every frame on its own.
    batching = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.unacked: deque[int] = deque()
        # Room events from the hub that wait while this connection is busy
        # delivering something else (see room_event).
        self.inbox: deque[tuple[dict[str, Any], EventFrames]] = deque()
        # Client frames waiting for the worker; None stops it.
        self.requests: asyncio.Queue[dict[str, Any] | ProtocolError | None] = (
            asyncio.Queue()
        )

    # --- connection ---------------------------------------------------------

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Human text in frames (errors, refusals) follows the visitor's
        # language, as the chat page does.
        if not hasattr(self, "language"):
            self.language = language_of(self.scope)
        with translation.override(self.language):
            await super().dispatch(message)

    async def connect(self) -> None:
        # The connection's id in the room's presence and in the hub.
        self.channel_name = f"talk.{uuid.uuid4().hex}"
        self.slug = self.scope["url_route"]["kwargs"]["room"]
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        self.batching = query.get("batch") == ["1"]
        self.sent: deque[float] = deque()
        self.delivery = asyncio.Lock()
        try:
            await self._join()
        except UNAVAILABLE:
            logger.warning(
                "talk: Redis unavailable, refusing connection", exc_info=True
            )
            with contextlib.suppress(*UNAVAILABLE):
                await self._leave_state()
            await self.close(code=CLOSE_TRY_AGAIN)

    async def _join(self) -> None:
        self.room = await database_sync_to_async(selectors.room_get_by_slug)(
            slug=self.slug
        )
        if self.room is None:
            await self._refuse(
                "not_found", _("There is no such room."), CLOSE_NOT_FOUND
            )
            return
        name = await database_sync_to_async(self._identity)()
        if await database_sync_to_async(selectors.block_is_active)(
            session_hash=self.sid, ip_hash=self.ip_hash
        ):
            await self._refuse(
                "blocked", _("You are blocked from this room."), CLOSE_BLOCKED
            )
            return
        state = get_state()
        self.joined_at = time.time()
        for candidate in [name, *alternatives(name)]:
            result = await state.join(
                room=self.slug, channel=self.channel_name, sid=self.sid, name=candidate
            )
            if result.ok:
                break
        else:
            # Every alternative taken (hardly possible): share the name
            # rather than turn the visitor away.
            result = await state.join(
                room=self.slug,
                channel=self.channel_name,
                sid=self.sid,
                name=candidate,
                refresh=True,
            )
        self.name, self.count, self.joined = candidate, result.count, True
        # Room events wait in the inbox until the hello is out.
        async with self._delivering():
            self.hub = await hub_join(room=self.room, member=self)
            await self.accept()
            # After the accept: extensions (permessage-deflate) are settled.
            self.wire = attach(self.base_send)
            # Announced before the hello, so that whoever connects after this
            # client has its hello never hears of it as a new arrival. A second
            # tab of the same visitor is not a new arrival at all.
            if result.other_tabs == 0:
                await room_broadcast_async(
                    self.slug,
                    {
                        "type": "chat.join",
                        "name": self.name,
                        "count": self.count,
                        "sid": self.sid,
                    },
                )
            history, self.last_seq = await database_sync_to_async(self._history)()
            await self.send_frame(
                {
                    "type": "hello",
                    "room": self.slug,
                    "name": self.name,
                    "count": self.count,
                    "history": history,
                    "ack_every": settings.TALK_ACK_EVERY,
                    "max_unacked": settings.TALK_MAX_UNACKED,
                }
            )
        self.heartbeat = asyncio.create_task(self._heartbeat())

    def _identity(self) -> str:
        """Nickname and hashes; assigns and saves a name for a new session."""
        # The trusted-proxy rule, not the socket peer: behind Traefik the
        # peer is the proxy, and every chatter would share one bucket.
        address = client_ip(self.scope) or ""
        # No address (a Unix socket): nothing to rate-limit or block by.
        self.ip_hash = anon_hash("ip", address) if address else ""
        session = self.scope.get("session")
        self.session_key = session.session_key if session is not None else None
        if not self.session_key:
            # No session cookie (a script, not the page): a name per connection.
            self.sid = anon_hash("connection", self.channel_name)
            return random_name()
        self.sid = anon_hash("session", self.session_key)
        name, new = session_name(session)
        if new:
            session.save()
        return name

    def _history(self) -> tuple[list[dict[str, Any]], int]:
        assert self.room is not None  # noqa: S101
        last_seq = selectors.room_last_seq(room=self.room)
        messages = selectors.chat_message_list_recent(
            room=self.room, limit=settings.TALK_HISTORY_SIZE, upto_seq=last_seq
        )
        self.history_first_id = messages[0].pk if messages else None
        return [self._frame(m) for m in messages], last_seq

    async def _refuse(self, code: str, detail: str, close_code: int) -> None:
        await self.accept()
        await self.send_frame(error_frame(code, detail))
        await self.close(code=close_code)

    async def disconnect(self, code: int) -> None:
        if self.heartbeat is not None:
            self.heartbeat.cancel()
        if self.worker is not None:
            # What the client sent before it went is still handled (stored),
            # as when frames were handled in the consumer's own loop.
            self.requests.put_nowait(None)
            with contextlib.suppress(Exception):
                await self.worker
        if not self.joined:
            return
        try:
            left = await self._leave_state()
            if left is not None and left.other_tabs == 0:
                await room_broadcast_async(
                    self.slug,
                    {
                        "type": "chat.leave",
                        "name": self.name,
                        "count": left.count,
                        "sid": self.sid,
                    },
                )
        except UNAVAILABLE:
            # The presence entry expires by itself after the TTL.
            logger.warning("talk: could not announce a leave", exc_info=True)

    async def _leave_state(self) -> Any:
        if not self.joined:
            return None
        self.joined = False
        if self.hub is not None:
            self.hub.discard(self)
            self.hub = None
        self.inbox.clear()
        return await get_state().leave(
            room=self.slug, channel=self.channel_name, sid=self.sid
        )

    async def close(
        self, code: int | bool | None = None, reason: str | None = None
    ) -> None:
        self.closing = True
        await super().close(code=code, reason=reason)

    async def send_frame(self, frame: dict[str, Any]) -> None:
        await self.send_encoded(Frame(dumps(frame)))

    async def send_encoded(self, frame: Frame) -> None:
        """Send an encoded frame, counting it as unacknowledged."""
        if self.closing:
            return
        try:
            if self.wire is None or not self.wire.write(frame.wire):
                await self.send(text_data=frame.text)
        except Exception:  # noqa: BLE001
            # The client went away while a room event was on its way (daphne
            # raises autobahn's Disconnected). Letting that propagate would
            # kill this consumer before its disconnect handler announces the
            # leave; the disconnect event follows, so stop sending and wait
            # for it.
            logger.debug("talk: send on a closed connection", exc_info=True)
            self.closing = True
            return
        size = frame.size
        self.frames_sent += 1
        self.unacked.append(size)
        self.unacked_bytes += size
        if self._over_capacity():
            await self._drop_slow()

    # --- slow consumers -----------------------------------------------------
    #
    # daphne writes a frame to the socket at once (the send above never waits
    # for the peer), and what the kernel cannot take Twisted keeps in memory
    # without limit. Only the client knows what it has read, so it says so
    # (`ack`), and a connection too far behind is closed before it costs the
    # replica more than the limits. Daphne's keepalive pings (--ping-interval,
    # --ping-timeout) drop a peer that stops answering altogether.

    def _over_capacity(self) -> bool:
        frames, size = settings.TALK_MAX_UNACKED, settings.TALK_MAX_UNACKED_BYTES
        return bool(
            (frames and len(self.unacked) > frames)
            or (size and self.unacked_bytes > size)
        )

    def on_ack(self, frame: dict[str, Any]) -> None:
        count = ack_count(frame, sent=self.frames_sent)
        while self.frames_acked < count:
            self.unacked_bytes -= self.unacked.popleft()
            self.frames_acked += 1

    async def _drop_slow(self) -> None:
        logger.warning(
            "talk: closing a slow connection in %s "
            "(%d frames, %d bytes unacknowledged)",
            self.slug,
            len(self.unacked),
            self.unacked_bytes,
        )
        # Closed before it is counted, so nothing more is queued for it; its
        # buffer goes when the close handshake times out (autobahn aborts the
        # connection after closeHandshakeTimeout). Counted in the background:
        # the hub may be fanning a message out, and the others must not wait
        # for a Redis round trip.
        await self.close(code=CLOSE_OVER_CAPACITY)
        self.counting = asyncio.create_task(self._count_over_capacity())

    async def _count_over_capacity(self) -> None:
        try:
            await get_state().count_over_capacity(
                room=self.slug, day=timezone.localdate().isoformat()
            )
        except UNAVAILABLE:
            logger.warning("talk: could not count an over-capacity close")

    # --- client frames ------------------------------------------------------

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None
    ) -> None:
        if not self.joined:
            return
        item: dict[str, Any] | ProtocolError
        try:
            item = parse_frame(text_data, bytes_data)
            if item["type"] == "ack":
                # At once, even while earlier frames wait (a message for the
                # database): the hub goes on sending meanwhile, and an ack
                # stuck behind them would make a reading client look too slow.
                self.on_ack(item)
                return
        except ProtocolError as error:
            item = error  # answered in turn, like the frames before it
        self.requests.put_nowait(item)
        if self.worker is None:
            self.worker = asyncio.create_task(self._work())

    async def _work(self) -> None:
        """Handle the connection's frames one at a time, in the order sent."""
        while (item := await self.requests.get()) is not None:
            with translation.override(self.language):
                await self._handle(item)

    async def _handle(self, item: dict[str, Any] | ProtocolError) -> None:
        try:
            if isinstance(item, ProtocolError):
                raise item
            if item["type"] == "message":
                await self.on_message(item)
            elif item["type"] == "rename":
                await self.on_rename(item)
            else:
                await self.on_resume(item)
        except ProtocolError as error:
            await self.send_frame(error_frame(error.code, error.detail))
        except UNAVAILABLE:
            logger.warning("talk: Redis unavailable, closing", exc_info=True)
            await self.close(code=CLOSE_TRY_AGAIN)
        except Exception:
            # One bad frame must never take the connection down.
            logger.exception("talk: error handling a frame")
            await self.send_frame(
                error_frame("server_error", _("Something went wrong on the server."))
            )

    def _check_rate(self) -> None:
        """Per-connection sliding window; raises ProtocolError when exceeded."""
        limit, window = (
            settings.TALK_RATE_LIMIT_MESSAGES,
            settings.TALK_RATE_LIMIT_SECONDS,
        )
        if not limit:
            return
        now = time.monotonic()
        while self.sent and self.sent[0] <= now - window:
            self.sent.popleft()
        if len(self.sent) >= limit:
            raise ProtocolError(
                "rate_limited",
                _("You can send up to %(limit)s messages in %(window)s seconds.")
                % {"limit": limit, "window": window},
            )
        self.sent.append(now)

    async def _check_ip_rate(self) -> None:
        limit, window = (
            settings.TALK_RATE_LIMIT_IP_MESSAGES,
            settings.TALK_RATE_LIMIT_SECONDS,
        )
        if (
            limit
            and self.ip_hash
            and not await get_state().hit(
                bucket=f"ip:{self.ip_hash}", limit=limit, window=window
            )
        ):
            raise ProtocolError(
                "rate_limited", _("Too many messages are coming from this address.")
            )

    async def on_message(self, frame: dict[str, Any]) -> None:
        try:
            text = services.clean_message_text(frame.get("text"))
        except ValidationError as error:
            raise ProtocolError(error.code or "bad_frame", error.messages[0]) from None
        self._check_rate()
        await self._check_ip_rate()
        assert self.room is not None  # noqa: S101
        # Stored with whatever else this process's senders sent meanwhile
        # (talk.writer: one lock and one commit per batch); the broadcast then
        # runs here on the loop, not in a database thread. A sender's own
        # messages stay in order: its frames are handled one at a time (see
        # _work).
        try:
            message = await room_writer(self.room).store(
                services.Draft(
                    name=self.name,
                    text=text,
                    session_hash=self.sid,
                    ip_hash=self.ip_hash,
                )
            )
        except services.Blocked:
            await self.send_frame(
                error_frame("blocked", _("You are blocked from sending."))
            )
            await self.close(code=CLOSE_BLOCKED)
            return
        await room_broadcast_async(
            self.room.slug, message_event(message), seq=message.seq
        )

    async def on_rename(self, frame: dict[str, Any]) -> None:
        try:
            name = clean_name(frame.get("name"))
        except InvalidName as error:
            raise ProtocolError("name_invalid", str(error)) from None
        if name == self.name:
            return
        self._check_rate()
        if not await get_state().rename(room=self.slug, sid=self.sid, name=name):
            raise ProtocolError(
                "name_taken", _("That name is already in use in this room.")
            )
        if self.session_key:
            session = self.scope["session"]
            session[SESSION_NAME_KEY] = name
            await database_sync_to_async(session.save)()
        old, self.name = self.name, name
        await room_broadcast_async(
            self.slug,
            {"type": "chat.rename", "old": old, "name": name, "sid": self.sid},
        )

    async def on_resume(self, frame: dict[str, Any]) -> None:
        after = resume_after(frame)
        assert self.room is not None  # noqa: S101
        async with self._delivering():
            missed = await database_sync_to_async(self._missed)(after)
            for item in missed:
                await self.send_frame(item)
            # The end of the batch: until a client sees it, what lies between
            # `after` and the history may still have holes (the connection
            # can drop mid-resume), so it must resume from `after` again.
            await self.send_frame({"type": "resumed", "count": len(missed)})

    def _missed(self, after: int) -> list[dict[str, Any]]:
        assert self.room is not None  # noqa: S101
        if self.history_first_id is None:
            return []  # no visible message before this connection
        messages = selectors.chat_message_list_after(
            room=self.room,
            after_id=after,
            before_id=self.history_first_id,
            limit=settings.TALK_RESUME_LIMIT,
        )
        return [self._frame(m) for m in messages]

    # --- room events (from the replica's hub, talk.hub) ---------------------

    async def room_events(
        self, items: list[tuple[dict[str, Any], EventFrames]]
    ) -> None:
        """Room events, in room order, with their frames already encoded.

        Sent at once, several as one batch frame; while this connection is
        busy delivering something else (its hello, a resume, a gap fill) they
        wait in the inbox and go out when that is done, so the hub never waits
        for one connection.
        """
        if self.closing:
            return
        self.inbox.extend(items)
        if self.delivery.locked():
            return
        async with self.delivery:
            await self._drain()

    async def room_event(self, event: dict[str, Any], frames: EventFrames) -> None:
        await self.room_events([(event, frames)])

    @contextlib.asynccontextmanager
    async def _delivering(self) -> AsyncIterator[None]:
        """Hold delivery; room events that arrive meanwhile are sent after."""
        async with self.delivery:
            try:
                yield
            finally:
                await self._drain()

    async def _drain(self) -> None:
        """Send the inbox: one frame, or a batch frame for several (protocol:
        `batch`) if the client asked for them. Call with self.delivery held."""
        while self.inbox:
            out: list[Frame] = []
            while self.inbox and len(out) < BATCH_MAX:
                event, frames = self.inbox.popleft()
                handler = self._EVENTS.get(event["type"])
                frame = handler(self, event, frames) if handler is not None else None
                if frame is not None:
                    out.append(frame)
            if len(out) == 1 or not self.batching:
                for frame in out:
                    await self.send_encoded(frame)
            elif out:
                batches = self.hub.batches if self.hub is not None else None
                await self.send_encoded(batch_frame(out, batches))

    # Each picks the frame this connection gets for an event, or None.

    def _on_message(self, event: dict[str, Any], frames: EventFrames) -> Frame | None:
        if event["seq"] <= self.last_seq:
            return None  # already delivered (history, gap fill)
        self.last_seq = event["seq"]
        return frames.frame(mine=event["sid"] == self.sid)

    def _on_deleted(self, event: dict[str, Any], frames: EventFrames) -> Frame | None:
        return frames.frame(mine=False)

    def is_news(self, event: dict[str, Any]) -> bool:
        """Whether a notice was sent after this connection registered.

        A hub may have received an event published just before this
        connection joined it; its hello already reflects that state.
        """
        return event["at"] >= self.joined_at

    def _on_presence(self, event: dict[str, Any], frames: EventFrames) -> Frame | None:
        if not self.is_news(event):
            return None
        self.count = event["count"]
        if event["sid"] == self.sid:
            return None
        return frames.frame(mine=False)

    def _on_rename(self, event: dict[str, Any], frames: EventFrames) -> Frame | None:
        if not self.is_news(event):
            return None
        mine = event["sid"] == self.sid
        if mine:
            self.name = event["name"]  # the visitor's other tabs follow
        return frames.frame(mine=mine)

    _EVENTS = {
        "chat.message": _on_message,
        "chat.deleted": _on_deleted,
        "chat.join": _on_presence,
        "chat.leave": _on_presence,
        "chat.rename": _on_rename,
    }

    # The same events as ASGI messages (the hub calls room_event directly).

    async def chat_message(self, event: dict[str, Any]) -> None:
        await self.room_event(event, EventFrames(event))

    chat_deleted = chat_join = chat_leave = chat_rename = chat_message

    # --- delivery guarantees ------------------------------------------------

    async def _fill_gap(self, upto_seq: int) -> None:
        """Send what the hub has not delivered yet, from the database.

        Call with self.delivery held.
        """
        # Through the replica's backlog: the other connections here see the
        # same gap at the same moment, and one query serves them all.
        missed = await get_backlog().between(self.slug, self.last_seq, upto_seq)
        for event in missed:
            await self.send_frame(message_frame(event, own_sid=self.sid))
        self.last_seq = max(self.last_seq, upto_seq)

    async def _heartbeat(self) -> None:
        """Keep presence alive, report count changes, catch missed messages."""
        state = get_state()
        while True:
            await asyncio.sleep(settings.TALK_PRESENCE_HEARTBEAT_SECONDS)
            try:
                result = await state.join(
                    room=self.slug,
                    channel=self.channel_name,
                    sid=self.sid,
                    name=self.name,
                    refresh=True,
                )
                head = await state.head(room=self.slug)
            except UNAVAILABLE:
                logger.warning("talk: heartbeat failed (Redis unavailable)")
                continue
            try:
                if result.count != self.count:
                    self.count = result.count
                    await self.send_frame({"type": "presence", "count": self.count})
                if head > self.last_seq:
                    async with self._delivering():
                        if head > self.last_seq:
                            await self._fill_gap(head)
            except Exception:
                logger.exception("talk: heartbeat delivery failed")

    def _frame(self, message: Message) -> dict[str, Any]:
        return message_frame(message_event(message), own_sid=self.sid)
