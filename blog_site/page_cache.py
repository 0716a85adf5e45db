"""An ASGI page cache in front of Django for anonymous public pages.

Handing a request from daphne's event loop to Django's synchronous thread
costs far more than rendering a cached page, so cached pages are answered
here, on the event loop, without entering Django at all.

How it stays correct:
- Only responses a view opted into (`public_page` or `share` sets a marker
  header that is stripped before sending) with status 200 (or a 302 every
  visitor gets alike, /images) and no Set-Cookie are stored.
- Requests carrying a session, messages cookie or Authorization header pass
  through: an author previewing a draft never reads from or writes to it.
- Every entry remembers the content version it was rendered under. Content
  writes bump one version key in Redis (`content_version_bump`), so every
  replica drops its stale pages on the next read. The version is read at
  most every `PAGE_CACHE_VERSION_TTL` seconds per process (default 0.25 s),
  in the background for up to `PAGE_CACHE_VERSION_STALE` more (0.5 s), which
  keeps an edit visible everywhere within a second.
- A view may cap an entry's life (`x-bdg-cache-until`), e.g. up to the next
  scheduled post's publication time, since that change has no write behind it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

from blog_site.redis_async import async_redis

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MARKER_HEADER = b"x-bdg-page-cache"
UNTIL_HEADER = b"x-bdg-cache-until"
VERSION_KEY = "bdg:page-cache:version"
BYPASS_COOKIES = ("sessionid", "messages")
_EMPTY_BODY: Message = {"type": "http.response.body", "body": b""}


# A page, or a redirect every visitor gets alike (media_store's /images).
SHAREABLE_STATUSES = (200, 302)


def public_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Mark a view's successful anonymous responses as safe to share."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return share(request, view(request, *args, **kwargs))

    return wrapper


def share(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Let the page cache give this response to every anonymous visitor.

    Call only when any anonymous visitor would get the same response; only
    a 200 or 302 to an anonymous request is marked.
    """
    if response.status_code in SHAREABLE_STATUSES and not request.user.is_authenticated:
        response[MARKER_HEADER.decode()] = "1"
    return response


def cache_until(response: HttpResponse, timestamp: float | None) -> HttpResponse:
    """Tell the page cache not to keep this page past `timestamp` (epoch s)."""
    if timestamp is not None:
        response[UNTIL_HEADER.decode()] = f"{timestamp:.3f}"
    return response


# --- The content version ------------------------------------------------------

_local_version = 0
_local_lock = threading.Lock()


def content_version_bump() -> None:
    """Invalidate every cached page on every replica (call after a commit)."""
    global _local_version
    with _local_lock:
        _local_version += 1
    if settings.REDIS_URL:
        try:
            _sync_redis().incr(VERSION_KEY)
        except Exception:  # noqa: BLE001 - a cache must never break a write
            log.warning(
                "page cache: could not bump the version in Redis", exc_info=True
            )


_sync_client: Any = None
_sync_seen: tuple[float, int, str | None] = (0.0, -1, None)


def content_version_sync() -> str | None:
    """The content version for synchronous code that keys its own caches on it
    (media_store's image visibility): this process's counter plus the shared
    one, read from Redis at most every `PAGE_CACHE_VERSION_TTL` seconds.

    None when Redis cannot be read: the caller must then not trust its cache.
    A bump in this process is seen at once; one on another replica within
    the TTL.
    """
    global _sync_seen
    read_at, local, value = _sync_seen
    now = time.monotonic()
    ttl = getattr(settings, "PAGE_CACHE_VERSION_TTL", 0.25)
    if local == _local_version and now - read_at < ttl:
        return value
    local = _local_version
    if not settings.REDIS_URL:
        value = str(local)
    else:
        try:
            shared = _sync_redis().get(VERSION_KEY)
            value = f"{local}:{(shared or b'0').decode()}"
        except Exception:  # noqa: BLE001 - Redis down: callers skip their cache
            value = None
    _sync_seen = (now, local, value)
    return value


def _sync_redis() -> Any:
    """A client for the version key on the cache backend's pool, which is
    shared and bounded per process (redis_cache.py); a pool of its own would
    grow with the request threads that read the version (media_store)."""
    global _sync_client
    if _sync_client is None:
        from django.core.cache import caches
        from django.core.cache.backends.redis import RedisCacheClient

        backend = getattr(caches["default"], "_cache", None)
        if (
            isinstance(backend, RedisCacheClient)
            and backend._servers[0] == settings.REDIS_URL
        ):
            _sync_client = backend.get_client(write=True)
        else:
            import redis

            _sync_client = redis.Redis.from_url(
                settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
            )
    return _sync_client


class _VersionSource:
    """Reads the shared version through the process's one async Redis pool."""

    # The pool is shared with the chat (blog_site.redis_async) and has its own
    # socket timeouts; a page must not wait on Redis longer than this.
    timeout = 0.5

    def __init__(self, url: str, ttl: float, stale: float = 0.5) -> None:
        self.url = url
        self.ttl = ttl
        # Past the TTL, the last value is still used for up to `stale` more
        # seconds while one read runs in the background, so no request waits
        # on Redis (a round trip every TTL for every request in flight was
        # the cached pages' latency tail on a busy machine). Another
        # replica's write is then seen within ttl + stale (0.75 s).
        self.stale = stale
        self._value: bytes | None = None
        self._read_at = 0.0
        self._local = -1
        self._lock = asyncio.Lock()
        self.refreshing: asyncio.Task[None] | None = None

    def _fresh(self) -> bool:
        # A bump in this process (the replica that took the write) is seen at
        # once; one on another replica within the TTL.
        return (
            self._local == _local_version
            and time.monotonic() - self._read_at < self.ttl
        )

    def known(self) -> bytes | None | bool:
        """The version if it needs no waiting on Redis now, else False (then
        await `current()`): most requests skip creating a coroutine."""
        if not self.url:
            return str(_local_version).encode()
        if self._local != _local_version:
            return False
        age = time.monotonic() - self._read_at
        if age < self.ttl:
            return self._value
        if age < self.ttl + self.stale and self._value is not None:
            if self.refreshing is None:
                self.refreshing = asyncio.ensure_future(self._refresh())
            return self._value
        return False

    async def current(self) -> bytes | None:
        """The version, or None when Redis cannot be read (then nothing is served)."""
        if not self.url:
            return str(_local_version).encode()
        if self._fresh():
            return self._value
        async with self._lock:
            if not self._fresh():
                await self._read()
            return self._value

    async def _refresh(self) -> None:
        try:
            async with self._lock:
                if not self._fresh():
                    await self._read()
        finally:
            self.refreshing = None

    async def _read(self) -> None:
        local = _local_version
        try:
            async with asyncio.timeout(self.timeout):
                value = await async_redis(self.url).get(VERSION_KEY)
            self._value = b"%d:%s" % (local, b"0" if value is None else value)
        except Exception:  # noqa: BLE001 - Redis down: fall through to Django
            self._value = None
        self._local = local
        self._read_at = time.monotonic()


@dataclass(slots=True)
class _Entry:
    version: bytes
    expires: float
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    # The ASGI messages a hit sends, built once when the page is stored.
    start: Message
    whole: Message


class PageCacheMiddleware:
    """ASGI middleware: serve cached anonymous GETs, store opted-in responses."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.entries: OrderedDict[tuple[bytes, ...], _Entry] = OrderedDict()
        self.max_entries: int = getattr(settings, "PAGE_CACHE_MAX_ENTRIES", 1000)
        self.max_body: int = getattr(settings, "PAGE_CACHE_MAX_BODY", 2 * 1024 * 1024)
        self.ttl: float = getattr(settings, "PAGE_CACHE_SECONDS", 300)
        self.enabled: bool = getattr(settings, "PAGE_CACHE_ENABLED", True)
        self.versions = _VersionSource(
            settings.REDIS_URL,
            getattr(settings, "PAGE_CACHE_VERSION_TTL", 0.25),
            getattr(settings, "PAGE_CACHE_VERSION_STALE", 0.5),
        )
        # Per page (base key), the request headers its response varies on
        # beyond those the key already covers (`Vary: Accept` on the API:
        # `Accept: application/json; indent=4` is another body). Bounded,
        # since paths and query strings are the client's to choose.
        self.varies: dict[tuple[bytes, ...], tuple[bytes, ...]] = {}
        self.hits = 0
        self.misses = 0
        self.refilling: dict[tuple[bytes, ...], asyncio.Future[None]] = {}
        # How long a request waits for another one re-rendering its page
        # before it asks Django itself.
        self.refill_wait: float = getattr(settings, "PAGE_CACHE_REFILL_WAIT", 5.0)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.enabled or scope["type"] != "http":
            return await self.app(scope, receive, send)
        key = self._key(scope)
        if key is None:
            return await self.app(scope, receive, send)
        version = self.versions.known()
        if version is False:
            version = await self.versions.current()
        if version is None:
            return await self.app(scope, receive, send)
        entry = self.entries.get(key)
        if (
            entry is not None
            and entry.version == version
            and entry.expires > time.time()
        ):
            self.entries.move_to_end(key)
            return await self._replay(entry, scope, send)
        self.misses += 1
        if entry is None:
            return await self._fill(version, scope, receive, send)
        # A page that was stored before went stale (a write, or its time was
        # up): every request in flight for it misses at once. One of them
        # renders it again; the others wait for that and replay it, instead
        # of all queueing for Django's threads together.
        pending = self.refilling.get(key)
        if pending is None:
            self.refilling[key] = pending = asyncio.get_running_loop().create_future()
            try:
                return await self._fill(version, scope, receive, send)
            finally:
                del self.refilling[key]
                pending.set_result(None)
        try:
            async with asyncio.timeout(self.refill_wait):
                await asyncio.shield(pending)
        except TimeoutError:
            pass
        entry = self.entries.get(key)
        if (
            entry is not None
            and entry.version == version
            and entry.expires > time.time()
        ):
            return await self._replay(entry, scope, send)
        await self.app(scope, receive, send)

    async def _replay(self, entry: _Entry, scope: Scope, send: Send) -> None:
        self.hits += 1
        await send(entry.start)
        if scope["method"] == "HEAD":
            return await send(_EMPTY_BODY)
        await send(entry.whole)

    def _key(self, scope: Scope) -> tuple[bytes, ...] | None:
        """The entry's key: the page's base key plus the request's values of
        the headers its response said it varies on (learnt when it was stored)."""
        found = self._base_key(scope)
        if found is None:
            return None
        base, headers = found
        names = self.varies.get(base)
        if not names:
            return base
        return base + tuple(headers.get(name, b"") for name in names)

    def _base_key(
        self, scope: Scope
    ) -> tuple[tuple[bytes, ...], dict[bytes, bytes]] | None:
        if scope["method"] not in ("GET", "HEAD"):
            return None
        headers = dict(scope.get("headers") or [])
        if b"authorization" in headers:
            return None
        cookie = headers.get(b"cookie", b"")
        language = b""
        if cookie:
            cookies = _parse_cookies(cookie)
            if any(name in cookies for name in BYPASS_COOKIES):
                return None
            language = cookies.get("django_language", "").encode()
        if not language:
            language = _preferred_language(headers.get(b"accept-language", b""))
        base = (
            headers.get(b"host", b""),
            scope.get("scheme", "http").encode(),
            scope["path"].encode(),
            scope.get("query_string", b""),
            language,
        )
        return base, headers

    async def _fill(
        self,
        version: bytes,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        start: Message | None = None
        chunks: list[bytes] = []
        storable = True
        until: float | None = None
        varies: tuple[bytes, ...] | None = ()

        async def capture(message: Message) -> None:
            nonlocal start, storable, until, varies
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                names = {name.lower() for name, _ in headers}
                storable = (
                    message["status"] in SHAREABLE_STATUSES
                    and MARKER_HEADER in names
                    and b"set-cookie" not in names
                    and scope["method"] == "GET"
                )
                for name, value in headers:
                    if name.lower() == UNTIL_HEADER:
                        until = float(value)
                    elif name.lower() == b"vary":
                        varies = _vary_names(value, varies)
                storable = storable and varies is not None
                headers = [
                    (n, v)
                    for n, v in headers
                    if n.lower() not in (MARKER_HEADER, UNTIL_HEADER)
                ]
                message = {**message, "headers": headers}
                start = message
            elif message["type"] == "http.response.body" and storable:
                chunks.append(message.get("body", b""))
                if sum(map(len, chunks)) > self.max_body:
                    storable = False
                    chunks.clear()
            await send(message)

        await self.app(scope, receive, capture)
        if not storable or start is None or varies is None:
            return
        found = self._base_key(scope)
        if found is None:
            return
        base, request_headers = found
        if varies:
            if len(self.varies) >= 4 * self.max_entries:
                self.varies.clear()
            self.varies[base] = varies
            key = base + tuple(request_headers.get(name, b"") for name in varies)
        else:
            self.varies.pop(base, None)
            key = base
        expires = time.time() + self.ttl
        if until is not None:
            expires = min(expires, until)
        body = b"".join(chunks)
        self.entries[key] = _Entry(
            version=version,
            expires=expires,
            status=start["status"],
            headers=start["headers"],
            body=body,
            start={
                "type": "http.response.start",
                "status": start["status"],
                "headers": start["headers"],
            },
            whole={"type": "http.response.body", "body": body},
        )
        self.entries.move_to_end(key)
        while len(self.entries) > self.max_entries:
            self.entries.popitem(last=False)


# Vary names the key already accounts for: requests with a session or
# Authorization never reach the cache, the language is in every key, and
# other cookies (csrftoken) do not change a shareable page.
_KEYED_VARY = frozenset((b"cookie", b"authorization", b"accept-language"))


def _vary_names(
    value: bytes, names: tuple[bytes, ...] | None
) -> tuple[bytes, ...] | None:
    """`names` plus the request headers a Vary value adds to the key; None
    for `Vary: *` (never the same response twice, so never stored)."""
    if names is None:
        return None
    found = list(names)
    for part in value.split(b","):
        name = part.strip().lower()
        if name == b"*":
            return None
        if name and name not in _KEYED_VARY and name not in found:
            found.append(name)
    return tuple(sorted(found))


def _parse_cookies(raw: bytes) -> dict[str, str]:
    cookies: dict[str, str] = {}
    for part in raw.decode("latin-1").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep:
            cookies[name] = value
    return cookies


# Accept-Language values repeat (a few per browser and locale): each is
# resolved once. Bounded, since the header is the client's to choose.
_LANGUAGES: dict[bytes, bytes] = {}
_LANGUAGES_MAX = 512


@receiver(setting_changed)
def _languages_changed(*, setting: str, **kwargs: Any) -> None:
    # Django clears its own language lookups the same way (tests override these).
    if setting in ("LANGUAGES", "LANGUAGE_CODE"):
        _LANGUAGES.clear()


def _preferred_language(header: bytes) -> bytes:
    """The supported language Django's LocaleMiddleware would pick from the header."""
    language = _LANGUAGES.get(header)
    if language is None:
        if len(_LANGUAGES) >= _LANGUAGES_MAX:
            _LANGUAGES.clear()
        language = _LANGUAGES[header] = _resolve_language(header)
    return language


def _resolve_language(header: bytes) -> bytes:
    from django.utils.translation import get_supported_language_variant
    from django.utils.translation.trans_real import parse_accept_lang_header

    for code, _quality in parse_accept_lang_header(header.decode("latin-1")):
        if code == "*":
            break
        try:
            return get_supported_language_variant(code).encode()
        except LookupError:
            continue
    return settings.LANGUAGE_CODE.encode()
