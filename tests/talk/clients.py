"""A protocol client on the `websockets` library, as any third party would write.

It records every frame, counts duplicate messages, acknowledges what it has
received (`ack`, as the protocol asks; `ack=False` plays a client that reads
but never acks), and (when asked) does what the browser client does:
reconnect with backoff and `resume` from the last id.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed


class ChatClient:
    def __init__(
        self,
        base_url: str,
        slug: str,
        *,
        reconnect: bool = False,
        cookie: str | None = None,
        ack: bool = True,
    ) -> None:
        parts = urlsplit(base_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.url = f"ws://{parts.netloc}/ws/talk/{slug}/?batch=1"
        self.reconnect = reconnect
        self.ack = ack
        self.received = 0  # frames on the current connection
        self.acked = 0
        self.ack_every = 32
        self.resuming: int | None = None
        self.headers = {"Cookie": cookie} if cookie else {}
        self.ws: ClientConnection | None = None
        self.name = ""
        self.hellos = 0
        self.frames: list[dict[str, Any]] = []
        self.messages: dict[int, dict[str, Any]] = {}
        self.order: list[int] = []  # message ids in arrival order
        self.duplicates = 0
        self.close_codes: list[int | None] = []
        self.connect_errors: list[str] = []
        self.changed = asyncio.Condition()
        self.task: asyncio.Task[None] | None = None
        self.closing = False

    @property
    def last_id(self) -> int:
        return max(self.messages, default=0)

    async def start(self) -> ChatClient:
        await self._open()
        self.task = asyncio.create_task(self._run())
        await self.wait_for(lambda: self.hellos >= 1)
        return self

    async def _open(self) -> None:
        self.ws = await connect(
            self.url,
            origin=self.origin,
            additional_headers=self.headers,
            proxy=None,
            open_timeout=5,
        )

    async def _run(self) -> None:
        delay = 0.1
        while True:
            assert self.ws is not None
            self.received = self.acked = 0
            with contextlib.suppress(ConnectionClosed):
                async for raw in self.ws:
                    self.received += 1
                    await self._handle(json.loads(raw))
                    if self.ack and self.received - self.acked >= self.ack_every:
                        self.acked = self.received
                        await self.send({"type": "ack", "count": self.received})
            self.close_codes.append(self.ws.close_code)
            async with self.changed:
                self.changed.notify_all()
            if self.closing or not self.reconnect or self.ws.close_code in (4403, 4404):
                return
            while True:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
                try:
                    await self._open()
                except Exception as error:  # noqa: BLE001 - any failure: retry
                    self.connect_errors.append(repr(error))
                    continue
                delay = 0.1
                break

    async def _handle(self, frame: dict[str, Any]) -> None:
        if frame["type"] == "batch":
            # Several frames in one (docs/talk-protocol.md), in order.
            for inner in frame["frames"]:
                await self._handle(inner)
            return
        self.frames.append(frame)
        if frame["type"] == "hello":
            # Complete up to last_id, unless a resume was cut short: then
            # from where that one started (the history left a hole).
            if self.resuming is None:
                self.resuming = self.last_id
            after = self.resuming
            self.name = frame["name"]
            self.ack_every = frame["ack_every"]
            for message in frame["history"]:
                self._add(message, live=False)
            self.hellos += 1
            if after:
                await self.send({"type": "resume", "after": after})
            else:
                self.resuming = None
        elif frame["type"] == "resumed":
            self.resuming = None
        elif frame["type"] == "message":
            self._add(frame, live=True)
        async with self.changed:
            self.changed.notify_all()

    def _add(self, message: dict[str, Any], *, live: bool) -> None:
        if message["id"] in self.messages:
            if live:
                self.duplicates += 1
            return
        self.messages[message["id"]] = message
        self.order.append(message["id"])

    async def send(self, frame: dict[str, Any]) -> None:
        assert self.ws is not None
        await self.ws.send(json.dumps(frame, ensure_ascii=False))

    async def say(self, text: str) -> None:
        await self.send({"type": "message", "text": text})

    async def wait_for(
        self, predicate: Callable[[], bool], timeout: float = 20
    ) -> None:
        async with asyncio.timeout(timeout):
            async with self.changed:
                await self.changed.wait_for(predicate)

    def texts(self) -> list[str]:
        return [self.messages[i]["text"] for i in self.order]

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [f for f in self.frames if f["type"] == kind]

    async def close(self) -> None:
        self.closing = True
        if self.ws is not None:
            await self.ws.close()
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self.task, 10)
