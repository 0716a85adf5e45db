"""The ceiling: a bare ASGI app answering every request with the same bytes.

It reads the captured post page once (BENCH_BODY_FILE, and its headers from
BENCH_HEADERS_FILE), so it sends exactly what the blog sends, headers
included; whatever a server does beyond this is the framework's.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

_BODY_FILE = os.environ.get("BENCH_BODY_FILE")
if not _BODY_FILE:
    raise RuntimeError("BENCH_BODY_FILE must name the page whose bytes to serve")
_BODY = Path(_BODY_FILE).read_bytes()
# The blog's response headers as captured (BENCH_HEADERS_FILE, a JSON list of
# [name, value]), so the ceiling sends the whole response the blog sends.
_HEADERS_FILE = os.environ.get("BENCH_HEADERS_FILE")
_CAPTURED = json.loads(Path(_HEADERS_FILE).read_text()) if _HEADERS_FILE else []
_HEADERS = [
    (name.lower().encode("latin-1"), value.encode("latin-1"))
    for name, value in _CAPTURED
] or [(b"content-type", b"text/html; charset=utf-8")]
_HEADERS.append((b"content-length", str(len(_BODY)).encode()))


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
