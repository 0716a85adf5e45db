from __future__ import annotations

import uuid
import weakref
from collections import deque
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.backends.cached_db import SessionStore

from talk.identity import SESSION_NAME_KEY
from talk.models import Room

ORIGIN = b"http://testserver"
# Frames every client may receive at any time; tests wait past them.
BACKGROUND = {"presence"}


@pytest.fixture(autouse=True)
def no_address_limit(settings) -> None:
    """Every test client comes from 127.0.0.1; tests of that limit set it."""
    settings.TALK_RATE_LIMIT_IP_MESSAGES = 0


@pytest.fixture
def make_room(transactional_db: None):
    def make(**fields: Any) -> Room:
        slug = fields.pop("slug", f"t-{uuid.uuid4().hex[:10]}")
        return Room.objects.create(slug=slug, name=fields.pop("name", slug), **fields)

    return make


@pytest.fixture
def room(make_room) -> Room:
    return make_room()


def new_session(name: str | None = None) -> str:
    """A saved session (as the room page creates it); returns its key."""
    session = SessionStore()
    if name:
        session[SESSION_NAME_KEY] = name
    session.save()
    assert session.session_key
    return session.session_key


async def open_socket(
    slug: str,
    *,
    session_key: str | None = None,
    origin: bytes | None = ORIGIN,
    client: tuple[str, int] = ("127.0.0.1", 40000),
    application: Any = None,
    headers: tuple[tuple[bytes, bytes], ...] = (),
    query: str = "batch=1",
) -> WebsocketCommunicator:
    """A communicator through the project's real ASGI stack (origin check too)."""
    if application is None:
        from blog_site.asgi import application
    headers = [(b"host", b"testserver"), *headers]
    if origin is not None:
        headers.append((b"origin", origin))
    if session_key:
        headers.append((b"cookie", f"sessionid={session_key}".encode()))
    communicator = WebsocketCommunicator(
        application, f"/ws/talk/{slug}/?{query}", headers=headers
    )
    communicator.scope["client"] = client
    return communicator


async def connect(slug: str, **kwargs: Any) -> tuple[WebsocketCommunicator, dict]:
    """Open a socket and return it with its hello frame."""
    communicator = await open_socket(slug, **kwargs)
    connected, _ = await communicator.connect(timeout=10)
    assert connected
    hello = await receive(communicator)
    assert hello["type"] == "hello", hello
    return communicator, hello


# Frames that came in a batch frame and have not been read yet.
_unread: weakref.WeakKeyDictionary[WebsocketCommunicator, deque[dict]] = (
    weakref.WeakKeyDictionary()
)


async def next_frame(communicator: WebsocketCommunicator, timeout: float = 10) -> dict:
    """The next frame, taking a batch frame's frames one by one."""
    unread = _unread.setdefault(communicator, deque())
    if not unread:
        frame = await communicator.receive_json_from(timeout=timeout)
        unread.extend(frame["frames"] if frame["type"] == "batch" else [frame])
    return unread.popleft()


async def receive(communicator: WebsocketCommunicator, timeout: float = 10) -> dict:
    """The next frame that is not a background presence update."""
    while True:
        frame = await next_frame(communicator, timeout=timeout)
        if frame["type"] not in BACKGROUND:
            return frame


async def receive_type(
    communicator: WebsocketCommunicator, kind: str, timeout: float = 10
) -> dict:
    """Skip frames until one of type `kind` arrives."""
    while True:
        frame = await next_frame(communicator, timeout=timeout)
        if frame["type"] == kind:
            return frame


session_for = database_sync_to_async(new_session)
