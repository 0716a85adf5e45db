"""The post API through the ASGI page cache, as daphne serves it: anonymous
reads are shared, credentials always reach Django, writes drop the pages."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import pytest
from django.core.asgi import get_asgi_application
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from blog_site import page_cache
from blog_site.page_cache import PageCacheMiddleware
from posts import services
from tests.asgi import asgi_get
from tests.posts.factories import make_post

pytestmark = pytest.mark.django_db(transaction=True)

POSTS = "/api/v1/posts/"


def _get(
    app: Any, path: str, headers: list[tuple[bytes, bytes]] | None = None
) -> tuple[int, dict[bytes, bytes], bytes]:
    return asyncio.run(asgi_get(app, path, headers))


def _titles(body: bytes) -> list[str]:
    return [post["title"] for post in json.loads(body)["results"]]


@pytest.fixture
def app() -> PageCacheMiddleware:
    """The page cache in front of Django, reading the version on every request."""
    app = PageCacheMiddleware(get_asgi_application())
    app.versions.ttl = 0
    app.versions.stale = 0
    return app


def test_anonymous_list_and_detail_are_answered_from_the_page_cache(
    app: PageCacheMiddleware, author: Any
) -> None:
    post = make_post(author=author, title="공개 글")
    for path in (POSTS, f"{POSTS}{post.slug}/"):
        first, second = _get(app, path), _get(app, path)
        assert first[0] == second[0] == 200
        assert first[2] == second[2]
        assert page_cache.MARKER_HEADER not in second[1]
    assert app.hits == 2
    assert _titles(_get(app, POSTS)[2]) == ["공개 글"]


def test_token_and_session_requests_never_read_or_fill_the_page_cache(
    app: PageCacheMiddleware, author: Any
) -> None:
    make_post(author=author, title="공개 글")
    make_post(author=author, title="내 초안", published=False)
    token = Token.objects.create(user=author)
    browser = Client()
    browser.force_login(author)
    session = browser.cookies["sessionid"].value
    credentials = [
        [(b"authorization", f"Token {token.key}".encode())],
        [(b"cookie", f"sessionid={session}".encode())],
    ]
    # Signed in first: what they see must not be stored for visitors.
    for headers in credentials:
        assert "내 초안" in _titles(_get(app, POSTS, headers)[2])
    assert not app.entries
    assert _titles(_get(app, POSTS)[2]) == ["공개 글"]
    # A visitor's page is stored; signed-in readers still get their drafts.
    for headers in credentials:
        assert "내 초안" in _titles(_get(app, POSTS, headers)[2])
    assert app.hits == 0


def test_a_write_drops_the_cached_list(app: PageCacheMiddleware, author: Any) -> None:
    draft = make_post(author=author, title="곧 공개", published=False)
    assert _titles(_get(app, POSTS)[2]) == []
    assert _titles(_get(app, POSTS)[2]) == []
    assert app.hits == 1
    services.post_publish(post=draft, by=author)
    assert _titles(_get(app, POSTS)[2]) == ["곧 공개"]
    assert app.hits == 1


def test_a_cached_list_is_not_kept_past_the_next_scheduled_publication(
    app: PageCacheMiddleware, author: Any
) -> None:
    make_post(author=author)
    at = timezone.now() + dt.timedelta(minutes=5)
    make_post(author=author, published_at=at)
    _get(app, POSTS)
    (entry,) = app.entries.values()
    assert entry.expires <= at.timestamp() + 0.001


def test_another_accept_header_gets_its_own_cached_body(
    app: PageCacheMiddleware, author: Any
) -> None:
    make_post(author=author)
    compact = _get(app, POSTS)
    indented = _get(app, POSTS, [(b"accept", b"application/json; indent=4")])
    assert b"\n    " in indented[2] and b"\n    " not in compact[2]
    assert json.loads(indented[2]) == json.loads(compact[2])
    assert _get(app, POSTS)[2] == compact[2]
    assert (
        _get(app, POSTS, [(b"accept", b"application/json; indent=4")])[2]
        == (indented[2])
    )
    assert app.hits == 2


def test_field_errors_are_not_cached(app: PageCacheMiddleware, author: Any) -> None:
    make_post(author=author)
    for _ in range(2):
        status, _headers, body = _get(app, POSTS + "?page_size=0")
        assert status == 400 and b"page_size" in body
    assert app.hits == 0 and not app.entries
