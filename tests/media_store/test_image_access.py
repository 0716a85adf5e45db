"""Who gets a presigned URL for /images/<uuid>, for which host, with which headers.

Issue 10 item 9: never a URL for an image only drafts use (or none), always
the configured public endpoint, and response headers that keep a browser
from running an upload. Uses the real posts app's usage finder and the real
S3 server.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from django.conf import settings
from django.core.asgi import get_asgi_application
from django.test import Client, override_settings

from blog_site import page_cache
from blog_site.page_cache import PageCacheMiddleware
from media_store import selectors, services
from media_store.storage import presigned_get_url
from posts import services as post_services
from tests.asgi import asgi_get
from tests.media_store.conftest import image_bytes
from tests.posts.factories import UserFactory, make_post

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def tally() -> Iterator[Counter[str]]:
    """Counts every /images URL tried in this module, for the figure."""
    counts: Counter[str] = Counter()
    yield counts
    print(
        f"\n[presign] URLs tried {counts['tried']}, refused for drafts "
        f"{counts['refused']}, wrong host {counts['wrong_host']}"
    )


@pytest.fixture
def fetch(tally: Counter[str]) -> Callable[[Client, str], int]:
    """GET an image URL, checking any redirect's host against the public endpoint."""

    def get(client: Client, url: str) -> int:
        response = client.get(url)
        tally["tried"] += 1
        if response.status_code == 302:
            expected = urlsplit(settings.S3_PUBLIC_ENDPOINT_URL).netloc
            if urlsplit(response["Location"]).netloc != expected:
                tally["wrong_host"] += 1
        return response.status_code

    return get


def _commit(capture: Any, write: Callable[[], Any]) -> Any:
    # Post writes bump the content version on commit; run those callbacks.
    with capture(execute=True):
        return write()


def test_image_used_only_by_a_draft_is_404_for_visitors_until_published(
    client: Client,
    fetch: Callable[[Client, str], int],
    tally: Counter[str],
    django_capture_on_commit_callbacks: Any,
) -> None:
    author = UserFactory(is_staff=True)
    other = UserFactory()  # signed in, not staff: a visitor for drafts
    image = services.image_create(
        file=image_bytes("JPEG", (1000, 500)), uploader=author
    )
    thumb = services.image_create(file=image_bytes("PNG", (60, 40)), uploader=author)
    urls = [f"/images/{image.pk}", f"/images/{image.pk}?w=480&fm=webp"]
    thumb_url = f"/images/{thumb.pk}"
    other_client, author_client = Client(), Client()
    other_client.force_login(other)
    author_client.force_login(author)

    # Not used by any post yet: only its uploader (and staff) may fetch it.
    for url in [*urls, thumb_url]:
        assert fetch(client, url) == 404
        assert fetch(other_client, url) == 404
        assert fetch(author_client, url) == 302
    tally["refused"] += 6

    post = _commit(
        django_capture_on_commit_callbacks,
        lambda: make_post(
            author=author,
            published=False,
            body=f"![a]({urls[0]})",
            thumbnail=thumb,
        ),
    )
    # Used by a draft only: the author's preview shows it, visitors get 404.
    assert post.images.filter(pk=image.pk).exists()
    for url in [*urls, thumb_url]:
        assert fetch(client, url) == 404
        assert fetch(other_client, url) == 404
        assert fetch(author_client, url) == 302
    tally["refused"] += 6
    editor_client = Client()
    editor_client.force_login(UserFactory(is_staff=True))
    assert fetch(editor_client, urls[0]) == 302

    _commit(
        django_capture_on_commit_callbacks,
        lambda: post_services.post_publish(post=post),
    )
    # Published: the cached "not public" answer went stale with the bump.
    for url in [*urls, thumb_url]:
        assert fetch(client, url) == 302

    _commit(
        django_capture_on_commit_callbacks,
        lambda: post_services.post_unpublish(post=post),
    )
    for url in [*urls, thumb_url]:
        assert fetch(client, url) == 404
    tally["refused"] += 3


def test_edit_that_drops_an_image_from_a_published_post_hides_it(
    client: Client,
    fetch: Callable[[Client, str], int],
    tally: Counter[str],
    django_capture_on_commit_callbacks: Any,
) -> None:
    image = services.image_create(file=image_bytes("PNG", (61, 40)))
    url = f"/images/{image.pk}"
    post = _commit(
        django_capture_on_commit_callbacks,
        lambda: make_post(body=f"![a]({url})"),
    )
    assert fetch(client, url) == 302

    _commit(
        django_capture_on_commit_callbacks,
        lambda: post_services.post_update(post=post, data={"body": "No image now."}),
    )

    assert fetch(client, url) == 404
    tally["refused"] += 1


def test_scheduled_post_image_stays_hidden_until_its_time(
    client: Client,
    fetch: Callable[[Client, str], int],
    tally: Counter[str],
    django_capture_on_commit_callbacks: Any,
) -> None:
    import datetime as dt

    from django.utils import timezone

    image = services.image_create(file=image_bytes("PNG", (62, 40)))
    url = f"/images/{image.pk}"
    _commit(
        django_capture_on_commit_callbacks,
        lambda: make_post(
            body=f"![a]({url})",
            published_at=timezone.now() + dt.timedelta(hours=1),
        ),
    )
    assert fetch(client, url) == 404
    tally["refused"] += 1


def test_visibility_is_answered_from_the_process_cache_without_queries(
    client: Client,
    used_by: Any,
    django_assert_num_queries: Any,
    fetch: Callable[[Client, str], int],
) -> None:
    image = services.image_create(file=image_bytes("PNG", (63, 40)))
    used_by(image, public=True)
    url = f"/images/{image.pk}"
    with django_assert_num_queries(2):  # the row, then the usage finders
        assert fetch(client, url) == 302
    with django_assert_num_queries(0):
        assert fetch(client, url) == 302
        assert fetch(client, url + "?w=480") == 302

    used_by(image, public=False)  # what a post write does: bumps the version

    with django_assert_num_queries(2):
        assert fetch(client, url) == 404


def test_served_facts_follow_a_bump_from_another_replica(used_by: Any) -> None:
    """Another process's bump reaches this one through Redis."""
    import redis

    from blog_site import page_cache

    image = services.image_create(file=image_bytes("PNG", (64, 40)))
    used_by(image, public=True)
    served = selectors.image_get_for_serving(pk=image.pk)
    assert served is not None and served.public
    used_by(image, public=False)
    before = page_cache.content_version_sync()

    # Only the shared counter moves, as when a replica next door publishes.
    redis.Redis.from_url(settings.REDIS_URL).incr(page_cache.VERSION_KEY)
    with override_settings(PAGE_CACHE_VERSION_TTL=0):
        after = page_cache.content_version_sync()
        served = selectors.image_get_for_serving(pk=image.pk)

    assert before != after
    assert served is not None and not served.public


@pytest.mark.parametrize(
    "public_endpoint", ["https://media.example.test", "http://127.0.0.1:9"]
)
def test_redirect_host_is_the_configured_public_endpoint(
    client: Client,
    used_by: Any,
    public_endpoint: str,
    fetch: Callable[[Client, str], int],
    tally: Counter[str],
) -> None:
    image = services.image_create(file=image_bytes("JPEG", (1000, 500)))
    used_by(image, public=True)
    with override_settings(S3_PUBLIC_ENDPOINT_URL=public_endpoint):
        for query in ("", "?w=480", "?w=960&fm=webp"):
            response = client.get(f"/images/{image.pk}{query}")
            assert response.status_code == 302
            location = urlsplit(response["Location"])
            assert f"{location.scheme}://{location.netloc}" == public_endpoint
            assert settings.S3_ENDPOINT_URL not in response["Location"]
            # Also counted against the overridden endpoint.
            assert fetch(client, f"/images/{image.pk}{query}") == 302
    assert tally["wrong_host"] == 0


def test_presigned_response_carries_type_and_inline_disposition(
    client: Client, used_by: Any
) -> None:
    image = services.image_create(file=image_bytes("JPEG", (1000, 500)))
    used_by(image, public=True)

    original = httpx.get(client.get(f"/images/{image.pk}")["Location"])
    webp = httpx.get(client.get(f"/images/{image.pk}?w=480&fm=webp")["Location"])

    assert original.status_code == webp.status_code == 200
    assert original.headers["content-type"] == "image/jpeg"
    assert original.headers["content-disposition"] == (
        f'inline; filename="{image.pk}.jpg"'
    )
    assert webp.headers["content-type"] == "image/webp"
    assert webp.headers["content-disposition"] == f'inline; filename="{image.pk}.webp"'
    print(
        "\n[presign] SeaweedFS response headers: "
        + ", ".join(
            f"{name}={original.headers.get(name, '-')}"
            for name in (
                "content-type",
                "content-disposition",
                "x-content-type-options",
                "content-security-policy",
            )
        )
    )


def test_anything_but_a_raster_image_is_served_as_a_download(
    s3_client: Any,
) -> None:
    """Should an HTML or SVG object ever reach the bucket, the browser saves it."""
    key = "images/probe/page"
    s3_client.put_object(
        Bucket=settings.S3_BUCKET,
        Key=key,
        Body=b"<script>alert(1)</script>",
        ContentType="text/html",
    )
    try:
        for content_type in ("text/html", "image/svg+xml", ""):
            url = presigned_get_url(key, content_type=content_type, filename="a b.svg")
            response = httpx.get(url)
            assert response.status_code == 200
            assert response.headers["content-type"] == "application/octet-stream"
            assert response.headers["content-disposition"] == (
                'attachment; filename="a_b.svg"'
            )
    finally:
        s3_client.delete_object(Bucket=settings.S3_BUCKET, Key=key)


# --- Through the ASGI page cache, as daphne serves it -------------------------


def _asgi_get(
    app: Any, path: str, headers: list[tuple[bytes, bytes]] | None = None
) -> tuple[int, dict[bytes, bytes]]:
    status, response_headers, _body = asyncio.run(asgi_get(app, path, headers))
    return status, response_headers


@pytest.fixture
def cached_app() -> Any:
    """The page cache in front of Django, reading the version on every request."""
    app = PageCacheMiddleware(get_asgi_application())
    app.versions.ttl = 0
    return app


@pytest.mark.django_db(transaction=True)
def test_the_page_cache_shares_redirects_to_public_images_only(
    cached_app: Any, used_by: Any
) -> None:
    image = services.image_create(
        file=image_bytes("PNG", (61, 40)), uploader=UserFactory(is_staff=True)
    )
    url = f"/images/{image.pk}"
    used_by(image)  # by a draft only

    assert [_asgi_get(cached_app, url)[0] for _ in range(2)] == [404, 404]
    assert cached_app.hits == 0

    used_by(image, public=True)  # the post is published
    first, second = _asgi_get(cached_app, url), _asgi_get(cached_app, url)
    assert first[0] == second[0] == 302
    assert first[1][b"location"] == second[1][b"location"]
    assert (
        urlsplit(second[1][b"location"].decode()).netloc
        == urlsplit(settings.S3_PUBLIC_ENDPOINT_URL).netloc
    )
    assert page_cache.MARKER_HEADER not in second[1]
    assert cached_app.hits == 1
    # A signed-in visitor is always answered by Django.
    _asgi_get(cached_app, url, [(b"cookie", b"sessionid=abc")])
    assert cached_app.hits == 1

    used_by(image, public=False)  # an edit drops it from the published post

    assert _asgi_get(cached_app, url)[0] == 404
    assert cached_app.hits == 1


@pytest.mark.django_db(transaction=True)
def test_a_shared_redirect_is_dropped_while_its_signature_still_has_time(
    cached_app: Any, used_by: Any
) -> None:
    """A browser may follow a redirect for max_age seconds after getting it."""
    image = services.image_create(file=image_bytes("PNG", (62, 40)))
    used_by(image, public=True)
    before = time.time()
    status, headers = _asgi_get(cached_app, f"/images/{image.pk}")
    assert status == 302
    max_age = re.search(rb"max-age=(\d+)", headers[b"cache-control"])
    assert max_age is not None
    (entry,) = cached_app.entries.values()
    assert entry.expires + int(max_age[1]) < before + settings.S3_PRESIGN_SECONDS
