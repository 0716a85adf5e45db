"""The talk wire protocol (docs/talk-protocol.md): parsing and frame shapes.

Pure functions, no I/O: the consumer uses them to validate what a client
sends and to shape what it receives.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from talk.models import Message
from talk.wire import text_frame


class ProtocolError(Exception):
    """A frame the server refuses; becomes an `error` frame with this code."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


CLIENT_TYPES = ("message", "rename", "resume", "ack")


def parse_frame(text: str | None, data: bytes | None) -> dict[str, Any]:
    """The client frame as a dict with a known `type`, or ProtocolError."""
    if text is None:
        raise ProtocolError("bad_frame", _("Only text (JSON) frames are accepted."))
    if len(text.encode()) > settings.TALK_MAX_FRAME_BYTES:
        raise ProtocolError("too_large", _("The frame is too large."))
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        raise ProtocolError("bad_frame", _("The frame is not JSON.")) from None
    if not isinstance(frame, dict) or frame.get("type") not in CLIENT_TYPES:
        raise ProtocolError("bad_frame", _("Unknown frame."))
    return frame


def resume_after(frame: dict[str, Any]) -> int:
    after = frame.get("after")
    if isinstance(after, bool) or not isinstance(after, int) or after < 0:
        raise ProtocolError(
            "bad_frame", _("resume needs an integer `after` of 0 or more.")
        )
    return after


def ack_count(frame: dict[str, Any], *, sent: int) -> int:
    """The frames a client says it has received; it cannot have more than `sent`."""
    count = frame.get("count")
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= sent:
        raise ProtocolError(
            "bad_frame", "ack에는 받은 프레임 수(0 이상의 정수) count가 필요합니다."
        )
    return count


def message_event(message: Message) -> dict[str, Any]:
    """The group event for a stored message (carries the sender's hash)."""
    return {
        "type": "chat.message",
        "id": message.pk,
        "seq": message.seq,
        "name": message.name,
        "text": message.text,
        "ts": timezone.localtime(message.created_at).isoformat(),
        "sid": message.session_hash,
    }


def message_frame(event: dict[str, Any], *, own_sid: str) -> dict[str, Any]:
    """What a client receives for a message; the sender's hash never leaves."""
    return _message(event, mine=event["sid"] == own_sid)


def _message(event: dict[str, Any], *, mine: bool) -> dict[str, Any]:
    return {
        "type": "message",
        "id": event["id"],
        "name": event["name"],
        "text": event["text"],
        "ts": event["ts"],
        "mine": mine,
    }


def _notice(kind: str) -> Callable[[dict[str, Any], bool], dict[str, Any]]:
    return lambda event, mine: {
        "type": kind,
        "name": event["name"],
        "count": event["count"],
    }


# Room event type -> the frame a connection sends for it, given whether the
# event is its own (same session). join and leave are never sent to their
# own session, so they have one shape.
_FRAMES: dict[str, Callable[[dict[str, Any], bool], dict[str, Any]]] = {
    "chat.message": lambda event, mine: _message(event, mine=mine),
    "chat.deleted": lambda event, mine: {"type": "deleted", "id": event["id"]},
    "chat.join": _notice("join"),
    "chat.leave": _notice("leave"),
    "chat.rename": lambda event, mine: {
        "type": "rename",
        "old": event["old"],
        "name": event["name"],
        "mine": mine,
    },
}


class Frame:
    """One encoded frame: its JSON text, UTF-8 bytes and, on demand, wire bytes."""

    __slots__ = ("text", "data", "_wire")

    def __init__(self, text: str) -> None:
        self.text = text
        self.data = text.encode()
        self._wire: bytes | None = None

    @property
    def size(self) -> int:
        """Its size in bytes (for ack accounting)."""
        return len(self.data)

    @property
    def wire(self) -> bytes:
        """The whole WebSocket frame (talk.wire), built once for every receiver."""
        if self._wire is None:
            self._wire = text_frame(self.data)
        return self._wire


class EventFrames:
    """A room event's frames, each variant encoded once for all connections.

    Frames for one event differ between connections only in `mine`, so a
    replica JSON-encodes at most two texts per event however many of its
    connections send them (issue 8: encoding per connection was most of the
    cost of a delivery).
    """

    __slots__ = ("event", "_frames")

    def __init__(self, event: dict[str, Any]) -> None:
        self.event = event
        self._frames: dict[bool, Frame] = {}

    def frame(self, *, mine: bool) -> Frame:
        found = self._frames.get(mine)
        if found is None:
            event = self.event
            found = self._frames[mine] = Frame(
                dumps(_FRAMES[event["type"]](event, mine))
            )
        return found


# At most this many frames go in one batch frame, so that a batch stays far
# below the unacknowledged-bytes limit (TALK_MAX_UNACKED_BYTES).
BATCH_MAX = 64

# A batch's frames, keyed by the Frame objects themselves (identity): the
# connections of a replica mostly send the same frames, and the key keeps
# them alive, so an entry can never match other frames.
Batches = dict[tuple[Frame, ...], Frame]


def batch_frame(frames: list[Frame], batches: Batches | None = None) -> Frame:
    """Several frames as one: `{"type":"batch","frames":[...]}`, in order.

    A batch is one frame on the wire and for acknowledgements. With
    `batches`, a batch already built from the same frames is reused.
    """
    key = tuple(frames)
    found = batches.get(key) if batches is not None else None
    if found is None:
        found = Frame(
            '{"type":"batch","frames":[' + ",".join(f.text for f in frames) + "]}"
        )
        if batches is not None:
            batches[key] = found
    return found


def error_frame(code: str, detail: str) -> dict[str, Any]:
    return {"type": "error", "code": code, "detail": detail}


def dumps(frame: dict[str, Any]) -> str:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))
