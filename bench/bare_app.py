"""The ceiling: a bare ASGI app answering each page with the blog's own bytes.

BENCH_PAGES_FILE names a JSON manifest captured from the running blog:
`{"/path?query": {"status": 200, "headers": [[name, value]...], "body_file":
"..."}}`. A request for one of those paths gets exactly that status, those
headers and that body, so each cached page is compared with a server sending
the same response and doing nothing else; whatever a server does beyond this
is the framework's. Any other path gets the manifest's `default` page.

The older single-page form (BENCH_BODY_FILE, BENCH_HEADERS_FILE) still works.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

_Response = tuple[dict[str, Any], dict[str, Any]]


def _response(status: int, captured: list[list[str]], body: bytes) -> _Response:
    headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in captured
    ] or [(b"content-type", b"text/html; charset=utf-8")]
    headers.append((b"content-length", str(len(body)).encode()))
    return (
        {"type": "http.response.start", "status": status, "headers": headers},
        {"type": "http.response.body", "body": body},
    )


def _load() -> tuple[dict[bytes, _Response], _Response]:
    manifest = os.environ.get("BENCH_PAGES_FILE")
    if manifest:
        pages = json.loads(Path(manifest).read_text())
        by_path = {
            path.encode("latin-1"): _response(
                page["status"], page["headers"], Path(page["body_file"]).read_bytes()
            )
            for path, page in pages["pages"].items()
        }
        return by_path, by_path[pages["default"].encode("latin-1")]
    body_file = os.environ.get("BENCH_BODY_FILE")
    if not body_file:
        raise RuntimeError("BENCH_PAGES_FILE or BENCH_BODY_FILE must name the pages")
    headers_file = os.environ.get("BENCH_HEADERS_FILE")
    captured = json.loads(Path(headers_file).read_text()) if headers_file else []
    return {}, _response(200, captured, Path(body_file).read_bytes())


_PAGES, _DEFAULT = _load()


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
    # raw_path keeps the percent-encoding the capture was made with.
    path = scope.get("raw_path") or scope["path"].encode()
    query = scope.get("query_string", b"")
    start, body = _PAGES.get(path + b"?" + query if query else path, _DEFAULT)
    await send(start)
    await send(body)
