"""The ceiling: a bare ASGI app answering every request with the same bytes.

It reads the captured post page once (BENCH_BODY_FILE), so it sends exactly
what the blog sends; whatever a server does beyond this is the framework's.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

_BODY_FILE = os.environ.get("BENCH_BODY_FILE")
if not _BODY_FILE:
    raise RuntimeError("BENCH_BODY_FILE must name the page whose bytes to serve")
_BODY = Path(_BODY_FILE).read_bytes()
_HEADERS = [
    (b"content-type", b"text/html; charset=utf-8"),
    (b"content-length", str(len(_BODY)).encode()),
]


async def app(
    scope: MutableMapping[str, Any],
    receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
    send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _BODY})
