from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from talk.broadcast import room_broadcast
from talk.models import Block, Message, Room
from talk.protocol import message_event
from talk.selectors import block_is_active

logger = logging.getLogger(__name__)

# Control characters other than tab and newline (and the Unicode bidi
# overrides, which can make a message display as something else).
_UNSAFE_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


class Blocked(Exception):
    """The sender's session or address is blocked."""


def clean_message_text(raw: object) -> str:
    """The text as stored, or ValidationError (code "empty" or "too_long")."""
    if not isinstance(raw, str):
        raise ValidationError(_("A message must be a string."), code="empty")
    text = _UNSAFE_CHARS.sub("", raw.replace("\r\n", "\n")).strip()
    if not text:
        raise ValidationError(_("An empty message cannot be sent."), code="empty")
    limit = settings.TALK_MAX_MESSAGE_LENGTH
    if len(text) > limit:
        raise ValidationError(
            _("A message can be up to %(limit)d characters long.") % {"limit": limit},
            code="too_long",
        )
    return text


def chat_message_create(
    *, room: Room, name: str, text: str, session_hash: str, ip_hash: str
) -> Message:
    """Store a message under the room's next sequence number and broadcast it.

    The broadcast runs after commit and its errors propagate (robust=False), so
    a caller learns that Redis is down; the message is stored either way and
    reaches everyone through a gap fill or a client's `resume`.
    """
    with transaction.atomic():
        message = chat_message_store(
            room=room, name=name, text=text, session_hash=session_hash, ip_hash=ip_hash
        )
        transaction.on_commit(
            partial(room_broadcast, room.slug, message_event(message), seq=message.seq),
            robust=False,
        )
    return message


@dataclass(frozen=True)
class Draft:
    """A message to store: who sent it and what."""

    name: str
    text: str
    session_hash: str
    ip_hash: str


def chat_message_store(
    *, room: Room, name: str, text: str, session_hash: str, ip_hash: str
) -> Message:
    """Store a message under the room's next sequence number, without
    broadcasting it: for a caller on an event loop, which broadcasts
    `message_event(message)` itself once this has returned (committed)
    rather than keep a database thread waiting on Redis.
    """
    draft = Draft(name=name, text=text, session_hash=session_hash, ip_hash=ip_hash)
    stored = chat_messages_store(room=room, drafts=[draft])[0]
    if isinstance(stored, Exception):
        raise stored
    return stored


def chat_messages_store(
    *, room: Room, drafts: list[Draft]
) -> list[Message | ValidationError | Blocked]:
    """Store several messages, in the given order, in one transaction.

    Each draft's answer is its stored Message, or the error that refused it
    (the others are stored all the same). Storing a room's messages waits on
    its row lock and a commit (a disk flush); the chat stores what its
    senders sent meanwhile as one batch (talk.writer), so a busy room pays
    one lock and one flush per batch rather than per message.
    """
    answers: list[Message | ValidationError | Blocked] = []
    accepted: list[Message] = []
    for draft in drafts:
        try:
            text = clean_message_text(draft.text)
        except ValidationError as error:
            answers.append(error)
            continue
        if block_is_active(session_hash=draft.session_hash, ip_hash=draft.ip_hash):
            answers.append(Blocked())
            continue
        message = Message(
            room=room,
            name=draft.name,
            text=text,
            session_hash=draft.session_hash,
            ip_hash=draft.ip_hash,
        )
        try:
            # Checked before the lock, so one bad draft never fails the batch.
            # The room is the row locked below and the sequence number is
            # unique by that lock (the database constraint backs it up), so
            # only the fields need checking.
            message.full_clean(
                exclude=["room", "seq"],
                validate_unique=False,
                validate_constraints=False,
            )
        except ValidationError as error:
            answers.append(error)
            continue
        answers.append(message)
        accepted.append(message)
    if not accepted:
        return answers
    with transaction.atomic():
        # Locking the room row serialises writers per room: sequence numbers
        # and primary keys follow commit order, which is what lets readers
        # detect gaps.
        locked = Room.objects.select_for_update().only("pk", "last_seq").get(pk=room.pk)
        first = locked.last_seq + 1
        Room.objects.filter(pk=room.pk).update(last_seq=locked.last_seq + len(accepted))
        for offset, message in enumerate(accepted):
            message.seq = first + offset
            message.save()
    return answers


def chat_message_delete(*, message: Message, by: User | None) -> Message:
    """Hide a message everywhere: marks it deleted and tells connected clients."""
    if message.is_deleted:
        return message
    with transaction.atomic():
        message.deleted_at = timezone.now()
        message.deleted_by = by
        message.save(update_fields=["deleted_at", "deleted_by"])
        # robust: a moderator's delete must not fail because Redis is down;
        # clients that reconnect later never receive the message again.
        transaction.on_commit(
            partial(
                room_broadcast,
                message.room.slug,
                {"type": "chat.deleted", "id": message.pk},
            ),
            robust=True,
        )
    return message


def block_create(
    *,
    session_hash: str = "",
    ip_hash: str = "",
    reason: str = "",
    days: int | None = None,
    by: User | None = None,
) -> Block:
    """Refuse a session or address from now on (days=None: the default length)."""
    days = settings.TALK_BLOCK_DAYS if days is None else days
    block = Block(
        session_hash=session_hash,
        ip_hash=ip_hash,
        reason=reason,
        expires_at=timezone.now() + timedelta(days=days) if days else None,
        created_by=by,
    )
    block.full_clean()
    block.save()
    return block


def chat_messages_purge(*, older_than: datetime) -> int:
    """Delete messages created before `older_than` (and expired blocks).

    Returns how many messages were deleted.
    """
    deleted, _ = Message.objects.filter(created_at__lt=older_than).delete()
    Block.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted
