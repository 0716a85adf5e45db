"""Issue 10 item 14: a client that stops reading while others chat.

A real daphne with the real Redis layer. One raw client completes the
handshake and then never reads again (a tiny SO_RCVBUF, large messages, so
the kernel buffers on both sides really fill and daphne starts buffering in
memory); another reads but never acknowledges. Three others chat and ack as
the protocol asks. The chatters must get every message once and in order;
both slow clients must be closed as over capacity (4408) and counted.
"""

from __future__ import annotations

import asyncio
import base64
import fcntl
import os
import re
import socket
import struct
import termios
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.management import call_command

from tests.conftest import live_env
from tests.services import DaphneServer
from tests.talk.clients import ChatClient

pytestmark = pytest.mark.django_db(transaction=True)

CHATTERS = 3
PER_CHATTER = 40
MESSAGE_CHARS = 20_000  # ~60 KB of UTF-8 per frame (Hangul: 3 bytes)
MAX_UNACKED_BYTES = 4 * 1024 * 1024
CLOSE_OVER_CAPACITY = 4408


@pytest.fixture
def server(transactional_db) -> Iterator[DaphneServer]:
    daphne = DaphneServer(
        env=live_env(
            settings.DATABASES["default"]["NAME"],
            REDIS_URL=settings.REDIS_URL,
            TALK_MAX_MESSAGE_LENGTH=str(MESSAGE_CHARS),
            TALK_RATE_LIMIT_MESSAGES="0",
            TALK_RATE_LIMIT_IP_MESSAGES="0",
            # Above what loopback's kernel buffers absorb (~3 MB measured),
            # so the slow client is dropped only once daphne itself buffers.
            TALK_MAX_UNACKED_BYTES=str(MAX_UNACKED_BYTES),
            TALK_MAX_UNACKED="1000",
            TALK_ACK_EVERY="8",
        )
    )
    daphne.start()
    yield daphne
    daphne.stop()


def open_raw(port: int, slug: str) -> socket.socket:
    """A WebSocket handshake by hand, then nothing: this client never reads."""
    sock = socket.socket()
    # Before connect, so the window the client advertises stays tiny.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws/talk/{slug}/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: http://127.0.0.1:{port}\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def queued(sock: socket.socket) -> int:
    """Bytes waiting in the socket's kernel receive queue."""
    return struct.unpack("i", fcntl.ioctl(sock, termios.FIONREAD, b"\0" * 4))[0]


def read_to_end(sock: socket.socket) -> tuple[bytes, str]:
    """Everything left on the socket, and how it ended (EOF or reset)."""
    sock.settimeout(20)
    data = bytearray()
    while True:
        try:
            chunk = sock.recv(1 << 20)
        except ConnectionResetError:
            return bytes(data), "reset"
        if not chunk:
            return bytes(data), "eof"
        data += chunk


def parse_frames(data: bytes) -> tuple[int, int | None]:
    """(text frames, close code) from unmasked server frames."""
    texts, close, i = 0, None, 0
    while i + 2 <= len(data):
        opcode, length, i = data[i] & 0x0F, data[i + 1] & 0x7F, i + 2
        if length == 126:
            length, i = struct.unpack("!H", data[i : i + 2])[0], i + 2
        elif length == 127:
            length, i = struct.unpack("!Q", data[i : i + 8])[0], i + 8
        if i + length > len(data):
            break  # cut off by the reset
        if opcode == 1:
            texts += 1
        elif opcode == 8 and length >= 2:
            close = struct.unpack("!H", data[i : i + 2])[0]
        i += length
    return texts, close


def test_a_slow_client_is_dropped_and_the_others_get_everything(server, room) -> None:
    asyncio.run(scenario(server, room.slug))


async def scenario(server: DaphneServer, slug: str) -> None:
    raw = open_raw(server.port, slug)
    lazy = await ChatClient(server.url, slug, ack=False).start()
    chatters = [await ChatClient(server.url, slug).start() for _ in range(CHATTERS)]
    filler = "가" * MESSAGE_CHARS

    async def talk(n: int, client: ChatClient) -> None:
        for k in range(PER_CHATTER):
            prefix = f"c{n}:{k}:"
            await client.say(prefix + filler[len(prefix) :])
            # One message on its way at a time, as a person chats: a client
            # whose own uploads pile up (40 x 60 KB here) sends its acks
            # behind them on the same TCP stream, seconds late, and is
            # rightly taken for a slow reader.
            await client.wait_for(
                lambda c=client, p=prefix: any(
                    m["text"].startswith(p) for m in c.messages.values()
                )
            )

    await asyncio.gather(*(talk(n, c) for n, c in enumerate(chatters)))
    total = CHATTERS * PER_CHATTER
    for client in chatters:
        await client.wait_for(lambda c=client: len(c.messages) >= total, timeout=60)
    await lazy.wait_for(lambda: bool(lazy.close_codes), timeout=30)
    # The raw client's own kernel buffer is full: it stopped reading.
    raw_queued = queued(raw)
    raw_data, raw_end = await asyncio.to_thread(read_to_end, raw)
    raw.close()

    for client in chatters:
        assert client.duplicates == 0
        assert len(client.messages) == total
        assert client.order == sorted(client.order)
        for n in range(CHATTERS):
            said = [t.split(":")[1] for t in client.texts() if t.startswith(f"c{n}:")]
            assert said == [str(k) for k in range(PER_CHATTER)]
        assert client.close_codes == []  # never dropped: they ack
    assert [c.order for c in chatters[1:]] == [chatters[0].order] * (CHATTERS - 1)

    assert lazy.close_codes == [CLOSE_OVER_CAPACITY]
    lazy_messages = len(lazy.messages)
    assert lazy_messages < total

    # daphne's log names both closes with what each had not acknowledged.
    logged = r"closing a slow connection in \S+ \((\d+) frames, (\d+) bytes"
    drops = [(int(f), int(b)) for f, b in re.findall(logged, server.log())]
    assert len(drops) == 2, server.log()
    assert all(size > MAX_UNACKED_BYTES for _, size in drops)
    raw_frames, raw_close = parse_frames(raw_data)
    # Whatever reached the raw client before the server gave up on it is
    # far less than was said; its close frame was stuck behind the backlog,
    # so it either finds it (4408) or the connection was aborted (reset).
    assert raw_close in (CLOSE_OVER_CAPACITY, None)
    assert raw_close == CLOSE_OVER_CAPACITY or raw_end == "reset"

    out = await asyncio.to_thread(_counts)
    counted = re.search(rf"\t{re.escape(slug)}\t(\d+)", out)
    assert counted and int(counted.group(1)) == 2, out

    print(
        f"\nslow consumer: {total} messages of {len(filler.encode()) // 1024} KB "
        f"sent by {CHATTERS} chatters; delivered to others "
        f"{sum(len(c.messages) == total for c in chatters)}/{CHATTERS} "
        f"(duplicates 0, order violations 0); non-acking reader closed 4408 after "
        f"{lazy_messages} messages; unacknowledged at the two drops (frames, KB): "
        f"{[(f, b // 1024) for f, b in drops]}; the never-reading client's kernel "
        f"receive queue held {raw_queued} B, it got {raw_frames} frames "
        f"then {'close 4408' if raw_close else raw_end}); "
        f"over-capacity events counted: {counted.group(1)}"
    )
    for client in [lazy, *chatters]:
        await client.close()


def _counts() -> str:
    from io import StringIO

    out = StringIO()
    call_command("talk_overcapacity", "--days", "1", stdout=out)
    return out.getvalue()
