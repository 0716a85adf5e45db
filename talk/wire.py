"""Ready-made WebSocket frames written straight to a daphne connection.

The one module in talk that reaches below Channels' public API (issue 8).

A room event's frame is the same bytes for every connection that gets the
same variant, yet the public path (consumer.send -> Channels' session wrapper
-> daphne's handle_reply -> autobahn's sendMessage and sendFrame -> Twisted's
transport) framed it again for every connection, and Twisted then asked the
event loop to watch each socket for writability and wrote it on the next
iteration: two epoll_ctl calls and a callback per connection and message. A
py-spy profile of a replica fanning out 10,000 deliveries/s spent about half
of its event loop's time there.

Here the frame is built once (text_frame) and, for a connection whose output
buffers are empty, handed to its socket with one send(); whatever the socket
does not take goes to Twisted's buffer, which writes it as it always does
and keeps the order. Anything unusual (not daphne, as under Channels'
WebsocketCommunicator; permessage-deflate or fragmentation negotiated; TLS in
Twisted; the connection closing) makes `attach` or `DirectWire.write` answer
None/False, and the caller takes the public path instead.
"""

from __future__ import annotations

import functools
import logging
import struct
from typing import Any

logger = logging.getLogger(__name__)

_TEXT_FIN = 0x81  # FIN bit and opcode 1 (text), RFC 6455 section 5.2


def text_frame(payload: bytes) -> bytes:
    """An unmasked, unfragmented server-to-client text frame carrying `payload`."""
    size = len(payload)
    if size <= 125:
        header = bytes((_TEXT_FIN, size))
    elif size <= 0xFFFF:
        header = struct.pack("!BBH", _TEXT_FIN, 126, size)
    else:
        header = struct.pack("!BBQ", _TEXT_FIN, 127, size)
    return header + payload


class DirectWire:
    """Writes whole frames to one daphne WebSocket connection's socket."""

    __slots__ = ("protocol",)

    def __init__(self, protocol: Any) -> None:
        self.protocol = protocol

    def write(self, frame: bytes) -> bool:
        """Send `frame` (from text_frame); False: take the public path instead.

        Call from the event loop's thread (the one Twisted runs on).
        """
        protocol = self.protocol
        transport = protocol.transport
        if (
            protocol.state != protocol.STATE_OPEN
            or protocol.send_queue
            or transport is None
            or not transport.connected
            or transport._writeDisconnected  # noqa: SLF001
        ):
            # Closing or closed (autobahn's own path then raises or drops),
            # or autobahn has queued output of its own to keep in order.
            return False
        if transport._tempDataBuffer or transport.offset != len(transport.dataBuffer):  # noqa: SLF001
            # Output is waiting for the socket: queue behind it, in order.
            transport.write(frame)
            return True
        try:
            sent = transport.socket.send(frame)
        except OSError:
            # Full (EAGAIN) or failing: Twisted's buffer takes it, and its
            # next write finds the error and closes the connection as usual.
            sent = 0
        if sent < len(frame):
            transport.write(frame[sent:])
        return True


def attach(send: Any) -> DirectWire | None:
    """The direct writer behind a consumer's ASGI `send`, or None if there is none.

    Follows Channels' session wrapper down to daphne's handle_reply; any
    other server, wrapper or negotiated extension gives None.
    """
    # channels.sessions.InstanceSessionWrapper.send: websocket.send messages
    # pass through it untouched (it acts on http.response.start only).
    owner = getattr(send, "__self__", None)
    if owner is not None and type(owner).__name__ == "InstanceSessionWrapper":
        send = owner.real_send
    if not isinstance(send, functools.partial) or len(send.args) != 1:
        return None
    server = getattr(send.func, "__self__", None)
    if getattr(send.func, "__name__", "") != "handle_reply" or not _is_daphne(server):
        return None
    protocol = send.args[0]
    if not _plain(protocol):
        return None
    return DirectWire(protocol)


def _is_daphne(server: Any) -> bool:
    try:
        from daphne.server import Server
    except ImportError:  # pragma: no cover - daphne is a dependency
        return False
    return isinstance(server, Server)


def _plain(protocol: Any) -> bool:
    """Whether frames to this connection go out exactly as text_frame builds them."""
    try:
        from autobahn.websocket.protocol import WebSocketServerProtocol
    except ImportError:  # pragma: no cover - daphne depends on autobahn
        return False
    if not isinstance(protocol, WebSocketServerProtocol):
        return False
    transport = getattr(protocol, "transport", None)
    return bool(
        protocol._perMessageCompress is None  # noqa: SLF001 - permessage-deflate
        and not protocol.factory.maskServerFrames
        and not protocol.autoFragmentSize
        and not getattr(transport, "TLS", False)
        and hasattr(transport, "socket")
        and hasattr(transport, "_tempDataBuffer")
        and hasattr(transport, "dataBuffer")
    )
