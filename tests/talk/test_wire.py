"""talk.wire: frames built once and written straight to daphne's socket, or
the public path whenever that would not be exactly what autobahn sends.

The connection here is daphne's own WebSocket protocol on a real TCP socket
through Twisted's own TCP transport; only the reactor is a recorder (the
test must see whether Twisted was asked to write later).
"""

from __future__ import annotations

import socket
import types
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
from daphne.server import Server
from daphne.ws_protocol import WebSocketFactory
from twisted.internet import tcp
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from talk.wire import DirectWire, attach, text_frame


class RecordingReactor:
    """Records which transports asked to be written later (Twisted's buffer)."""

    def __init__(self) -> None:
        self.writers: list[Any] = []

    def addWriter(self, writer: Any) -> None:  # noqa: N802 - Twisted's name
        self.writers.append(writer)

    def removeWriter(self, writer: Any) -> None:  # noqa: N802
        pass

    def addReader(self, reader: Any) -> None:  # noqa: N802
        pass

    def removeReader(self, reader: Any) -> None:  # noqa: N802
        pass


@pytest.fixture
def connection() -> Iterator[tuple[Any, socket.socket, RecordingReactor]]:
    """daphne's protocol, open, on a TCP socket; and the peer's end."""
    factory = WebSocketFactory(None, server="daphne")
    factory.setProtocolOptions(openHandshakeTimeout=0)
    protocol = factory.buildProtocol(("127.0.0.1", 0))
    listener = socket.create_server(("127.0.0.1", 0))
    peer = socket.create_connection(listener.getsockname())
    ours, address = listener.accept()
    reactor = RecordingReactor()
    port = types.SimpleNamespace(_realPortNumber=listener.getsockname()[1])
    protocol.makeConnection(tcp.Server(ours, protocol, address, port, 0, reactor))
    protocol.state = protocol.STATE_OPEN  # as after the opening handshake
    peer.settimeout(5)
    yield protocol, peer, reactor
    for sock in (peer, ours, listener):
        sock.close()


def read_frames(peer: socket.socket, count: int) -> list[Frame]:
    reader = StreamReader()
    frames = []
    while len(frames) < count:
        reader.feed_data(peer.recv(1 << 20))
        parser = Frame.parse(reader.read_exact, mask=False)
        while True:
            try:
                next(parser)
            except StopIteration as done:
                frames.append(done.value)
                if len(frames) == count:
                    break
                parser = Frame.parse(reader.read_exact, mask=False)
            else:
                if reader.buffer:
                    continue
                break
    return frames


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 200_000])
def test_a_frame_is_what_rfc_6455_says_for_every_length_class(size) -> None:
    payload = ("가" * (size // 3) + "a" * (size % 3)).encode()
    reader = StreamReader()
    reader.feed_data(text_frame(payload))
    reader.feed_eof()
    parser = Frame.parse(reader.read_exact, mask=False)
    with pytest.raises(StopIteration) as done:
        next(parser)
    frame = done.value.value
    assert (frame.opcode, frame.fin, frame.data) == (Opcode.TEXT, True, payload)
    assert not (frame.rsv1 or frame.rsv2 or frame.rsv3)


def test_daphnes_send_gets_a_direct_writer_with_or_without_the_session_wrapper(
    connection,
) -> None:
    from channels.sessions import InstanceSessionWrapper

    protocol, _peer, _reactor = connection
    server = Server(application=None, endpoints=["tcp:port=0"])
    send = partial(server.handle_reply, protocol)
    assert isinstance(attach(send), DirectWire)
    wrapper = InstanceSessionWrapper({"type": "websocket", "cookies": {}}, send)
    assert isinstance(attach(wrapper.send), DirectWire)


def test_other_servers_and_negotiated_extensions_take_the_public_path(
    connection,
) -> None:
    protocol, _peer, _reactor = connection

    async def communicator_send(message: dict[str, Any]) -> None:
        pass

    assert attach(communicator_send) is None
    send = partial(
        Server(application=None, endpoints=["tcp:port=0"]).handle_reply, protocol
    )
    protocol._perMessageCompress = object()  # permessage-deflate negotiated
    assert attach(send) is None
    protocol._perMessageCompress = None
    protocol.autoFragmentSize = 1024
    assert attach(send) is None


def test_a_frame_goes_to_the_socket_at_once_when_nothing_waits(connection) -> None:
    protocol, peer, reactor = connection
    wire = DirectWire(protocol)
    assert wire.write(text_frame("안녕".encode()))
    assert reactor.writers == []  # no round through the event loop
    [frame] = read_frames(peer, 1)
    assert frame.data.decode() == "안녕"


def test_a_frame_queues_behind_output_twisted_still_holds(connection) -> None:
    protocol, peer, reactor = connection
    protocol.sendMessage(b"first")  # autobahn's own path: Twisted's buffer
    assert reactor.writers == [protocol.transport]
    assert DirectWire(protocol).write(text_frame(b"second"))
    protocol.transport.doWrite()  # what the reactor does when writable
    assert [f.data for f in read_frames(peer, 2)] == [b"first", b"second"]


def test_a_closing_connection_is_left_to_the_public_path(connection) -> None:
    protocol, peer, _reactor = connection
    protocol.state = protocol.STATE_CLOSING
    assert not DirectWire(protocol).write(text_frame(b"late"))
    peer.setblocking(False)
    with pytest.raises(BlockingIOError):
        peer.recv(100)
