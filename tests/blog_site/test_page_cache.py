"""The ASGI page cache, driven over ASGI against the real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import redis
from django.conf import settings
from django.core.asgi import get_asgi_application
from django.test import override_settings

from blog_site import page_cache
from blog_site.page_cache import PageCacheMiddleware
from tests.asgi import asgi_get
from tests.blog_site import page_cache_urls
from tests.services import free_port

pytestmark = pytest.mark.asyncio


@pytest.fixture(autouse=True)
def _urls() -> Iterator[None]:
    page_cache_urls.CALLS.clear()
    with override_settings(ROOT_URLCONF="tests.blog_site.page_cache_urls"):
        yield


def _app(**overrides: object) -> PageCacheMiddleware:
    app = PageCacheMiddleware(get_asgi_application())
    app.versions.ttl = 0  # read the shared version on every request
    app.versions.stale = 0
    for name, value in overrides.items():
        setattr(app, name, value)
    return app


async def _get(
    app: PageCacheMiddleware,
    path: str,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> tuple[int, dict[bytes, bytes], bytes]:
    return await asgi_get(app, path, headers)


async def test_second_anonymous_get_is_served_without_entering_django() -> None:
    app = _app()
    first = await _get(app, "/shared")
    second = await _get(app, "/shared")
    assert first[0] == second[0] == 200
    assert first[2] == second[2] == b"shared 1"
    assert page_cache_urls.CALLS["shared"] == 1
    assert page_cache.MARKER_HEADER not in second[1]
    assert app.hits == 1


async def test_a_content_write_on_any_replica_invalidates_every_replica() -> None:
    replica_a, replica_b = _app(), _app()
    await _get(replica_a, "/shared")
    await _get(replica_b, "/shared")
    assert page_cache_urls.CALLS["shared"] == 2

    page_cache.content_version_bump()  # e.g. a post was published via replica B

    assert (await _get(replica_a, "/shared"))[2] == b"shared 3"
    assert (await _get(replica_b, "/shared"))[2] == b"shared 4"


async def test_a_write_in_this_process_is_seen_at_once_whatever_the_ttl() -> None:
    # The replica that took the write must never serve its own stale page
    # (the TTL only bounds how late other replicas see it).
    app = _app()
    app.versions.ttl = 3600
    await _get(app, "/shared")
    assert (await _get(app, "/shared"))[2] == b"shared 1"

    page_cache.content_version_bump()

    assert (await _get(app, "/shared"))[2] == b"shared 2"
    assert (await _get(app, "/shared"))[2] == b"shared 2"


async def test_requests_with_a_session_cookie_always_reach_django() -> None:
    app = _app()
    cookie = [(b"cookie", b"sessionid=abc; theme=dark")]
    await _get(app, "/shared", cookie)
    await _get(app, "/shared", cookie)
    assert page_cache_urls.CALLS["shared"] == 2
    assert app.hits == 0


async def test_unmarked_views_and_responses_setting_cookies_are_not_stored() -> None:
    app = _app()
    for _ in range(2):
        await _get(app, "/private")
        await _get(app, "/cookie")
    assert page_cache_urls.CALLS == {"private": 2, "cookie": 2}


async def test_a_page_is_stored_apart_for_each_value_of_a_header_it_varies_on() -> None:
    app = _app()
    round_ = [(b"x-shape", b"round")]
    assert (await _get(app, "/varies", round_))[2] == b"round 1"
    assert (await _get(app, "/varies"))[2] == b" 2"
    assert (await _get(app, "/varies", round_))[2] == b"round 1"
    assert (await _get(app, "/varies"))[2] == b" 2"
    assert app.hits == 2


async def test_a_page_that_varies_on_everything_is_never_stored() -> None:
    app = _app()
    await _get(app, "/varies-always")
    await _get(app, "/varies-always")
    assert page_cache_urls.CALLS["any"] == 2
    assert not app.entries


async def test_a_page_is_not_kept_past_its_cache_until_time() -> None:
    app = _app()
    await _get(app, "/expired")
    await _get(app, "/expired")
    assert page_cache_urls.CALLS["expired"] == 2


async def test_pages_are_kept_apart_by_language() -> None:
    app = _app()
    ko = await _get(app, "/shared", [(b"accept-language", b"ko-KR,ko;q=0.9")])
    en = await _get(app, "/shared", [(b"accept-language", b"en-US,en;q=0.9")])
    again_en = await _get(app, "/shared", [(b"cookie", b"django_language=en")])
    assert (ko[2], en[2], again_en[2]) == (b"shared 1", b"shared 2", b"shared 2")


async def test_with_redis_down_pages_pass_through_to_django() -> None:
    app = _app()
    app.versions = page_cache._VersionSource(f"redis://127.0.0.1:{free_port()}/0", 0)
    first = await _get(app, "/shared")
    second = await _get(app, "/shared")
    assert (first[0], second[0]) == (200, 200)
    assert page_cache_urls.CALLS["shared"] == 2


async def test_another_replicas_write_is_read_in_the_background_past_the_ttl() -> None:
    # Past the TTL, a request does not wait on Redis: it gets the page of the
    # last version read and starts one read; the next requests see the write.
    app = _app()
    app.versions.stale = 3600
    await _get(app, "/shared")
    assert (await _get(app, "/shared"))[2] == b"shared 1"
    if app.versions.refreshing is not None:  # started before the write
        await app.versions.refreshing

    redis.Redis.from_url(settings.REDIS_URL).incr(page_cache.VERSION_KEY)

    assert (await _get(app, "/shared"))[2] == b"shared 1"
    refreshing = app.versions.refreshing
    assert refreshing is not None
    await refreshing
    assert (await _get(app, "/shared"))[2] == b"shared 2"


async def test_a_stale_page_is_rendered_once_for_all_requests_waiting_on_it() -> None:
    # After a write every request in flight for a page misses together; one
    # renders it and the others replay that, rather than all entering Django.
    app = _app()
    await _get(app, "/shared")
    page_cache.content_version_bump()

    pages = await asyncio.gather(*(_get(app, "/shared") for _ in range(8)))

    assert [body for _status, _headers, body in pages] == [b"shared 2"] * 8
    assert page_cache_urls.CALLS["shared"] == 2


async def test_waiters_on_a_page_no_longer_shareable_reach_django() -> None:
    app = _app()
    page_cache_urls.FLAKY_SHARED["value"] = True
    try:
        await _get(app, "/flaky")
        page_cache.content_version_bump()
        page_cache_urls.FLAKY_SHARED["value"] = False

        pages = await asyncio.gather(*(_get(app, "/flaky") for _ in range(4)))
    finally:
        page_cache_urls.FLAKY_SHARED["value"] = True

    assert sorted(body for _status, _headers, body in pages) == [
        b"flaky 2",
        b"flaky 3",
        b"flaky 4",
        b"flaky 5",
    ]
    assert page_cache_urls.CALLS["flaky"] == 5
