"""The talk wire protocol (docs/talk-protocol.md): parsing and frame shapes.

Pure functions, no I/O: the consumer uses them to validate what a client
sends and to shape what it receives.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.utils import timezone

from talk.models import Message


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
        raise ProtocolError("bad_frame", "텍스트(JSON) 프레임만 받습니다.")
    if len(text.encode()) > settings.TALK_MAX_FRAME_BYTES:
        raise ProtocolError("too_large", "프레임이 너무 큽니다.")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        raise ProtocolError("bad_frame", "JSON 형식이 아닙니다.") from None
    if not isinstance(frame, dict) or frame.get("type") not in CLIENT_TYPES:
        raise ProtocolError("bad_frame", "알 수 없는 프레임입니다.")
    return frame


def resume_after(frame: dict[str, Any]) -> int:
    after = frame.get("after")
    if isinstance(after, bool) or not isinstance(after, int) or after < 0:
        raise ProtocolError("bad_frame", "resume에는 0 이상의 정수 after가 필요합니다.")
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
    return {
        "type": "message",
        "id": event["id"],
        "name": event["name"],
        "text": event["text"],
        "ts": event["ts"],
        "mine": event["sid"] == own_sid,
    }


def error_frame(code: str, detail: str) -> dict[str, Any]:
    return {"type": "error", "code": code, "detail": detail}


def dumps(frame: dict[str, Any]) -> str:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))
