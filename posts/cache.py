"""The content version that keys every cached public page.

Any change to a post or category bumps the version (after the transaction
commits), so every replica's cached pages go stale at once. The state also
remembers when the next scheduled post goes public: once that time passes,
the first request on any replica bumps the version, so a scheduled post
appears without a cron job and without waiting for a cache timeout.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Min
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from blog_site import page_cache

STATE_KEY = "posts:content-state"


def _fresh_state() -> dict[str, Any]:
    from posts.models import Post

    upcoming = Post.objects.filter(
        status=Post.Status.PUBLISHED, published_at__gt=timezone.now()
    ).aggregate(at=Min("published_at"))["at"]
    state = {
        "version": uuid.uuid4().hex[:12],
        "next_publish": upcoming.timestamp() if upcoming else None,
    }
    cache.set(STATE_KEY, state, None)
    return state


# Where a request keeps the state it read, so a page asks Redis once.
_REQUEST_ATTR = "_posts_content_state"


def _state(request: HttpRequest | None = None) -> dict[str, Any]:
    """The content state, read once per request when `request` is given."""
    if request is not None:
        state: dict[str, Any] | None = getattr(request, _REQUEST_ATTR, None)
        if state is None:
            state = _state()
            setattr(request, _REQUEST_ATTR, state)
        return state
    state = cache.get(STATE_KEY)
    if state is None or (
        state["next_publish"] is not None and state["next_publish"] <= time.time()
    ):
        if state is not None:
            # A scheduled post just went public: the ASGI page cache in front
            # of Django must drop its pages too.
            page_cache.content_version_bump()
        state = _fresh_state()
    return state


def content_version(request: HttpRequest | None = None) -> str:
    """The current version; re-derived when a scheduled post has just gone public.

    With `request`, the value read first in that request (one Redis GET for
    the page cache key, the header's categories and the expiry together)."""
    return _state(request)["version"]


def next_publish_at(request: HttpRequest | None = None) -> float | None:
    """When the next scheduled post goes public (epoch seconds), if any."""
    return _state(request)["next_publish"]


def _bump_now() -> None:
    _fresh_state()
    page_cache.content_version_bump()


_batch = threading.local()


def bump_content_version() -> None:
    """Invalidate every cached public page once the current transaction commits
    (or once, at the end of `content_changes_batched`)."""
    if getattr(_batch, "depth", 0):
        _batch.pending = True
        return
    transaction.on_commit(_bump_now)


@contextmanager
def content_changes_batched() -> Iterator[None]:
    """Bump the content version once for all the writes inside (an import).

    Each bump costs a query and writes to Redis, and one post write sends
    several (post, tags, images); a page cached halfway through a batch is
    stale by its end anyway. Per thread, so other requests bump as usual.
    """
    depth = getattr(_batch, "depth", 0)
    _batch.depth = depth + 1
    try:
        yield
    finally:
        _batch.depth = depth
        if depth == 0 and getattr(_batch, "pending", False):
            _batch.pending = False
            transaction.on_commit(_bump_now)


def page_cache_seconds() -> int:
    return getattr(settings, "POSTS_PAGE_CACHE_SECONDS", 300)


def cached_public_page(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """Serve anonymous GETs of a public page from the cache backend.

    Signed-in users (who may preview drafts) always get a fresh page, and only
    200 responses are kept, so a 404 for a not-yet-public post is never cached.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        seconds = page_cache_seconds()
        if (
            seconds <= 0
            or request.method not in ("GET", "HEAD")
            or settings.SESSION_COOKIE_NAME in request.COOKIES
        ):
            return view(request, *args, **kwargs)
        version, language = content_version(request), translation.get_language()
        path = hashlib.sha256(request.get_full_path().encode()).hexdigest()[:32]
        key = f"posts:page:{version}:{language}:{path}"
        cached = cache.get(key)
        if cached is not None:
            content, content_type = cached
            response = HttpResponse(content, content_type=content_type)
            response["X-Page-Cache"] = "hit"
            return response
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.streaming:
            if hasattr(response, "render") and callable(response.render):
                response.render()
            cache.set(key, (response.content, response["Content-Type"]), seconds)
            response["X-Page-Cache"] = "miss"
        return response

    return wrapper


def public_post_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Both cache layers for a public page: the shared cache backend (Django
    side) and the ASGI page cache in front of Django, which keeps the page no
    longer than the next scheduled publication."""
    inner = cached_public_page(view)

    @page_cache.public_page
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = inner(request, *args, **kwargs)
        if response.status_code == 200:
            page_cache.cache_until(response, next_publish_at(request))
        return response

    return wrapper
