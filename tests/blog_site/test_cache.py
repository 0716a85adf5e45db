"""The cache is an optimisation: with Redis down, reads still succeed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from tests.posts.factories import make_post
from tests.services import RedisServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_redis_cache() -> Iterator[RedisServer]:
    """The default cache on a redis-server of this test's own."""
    server = RedisServer().start()
    caches = {
        "default": {
            "BACKEND": "blog_site.cache.ResilientRedisCache",
            "LOCATION": server.url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    with override_settings(CACHES=caches):
        yield server
    server.stop()


def test_cache_calls_answer_as_misses_while_redis_is_down(
    own_redis_cache: RedisServer,
) -> None:
    cache.set("k", "v")
    assert cache.get("k") == "v"

    own_redis_cache.stop()

    assert cache.get("k", "fallback") == "fallback"
    assert cache.add("k2", 1) is False
    cache.set("k", "w")  # does not raise
    cache.delete("k")
    assert cache.get_many(["k", "k2"]) == {}
    with pytest.raises(ValueError):
        cache.incr("counter")


def test_public_pages_and_the_chat_page_serve_while_redis_is_down(
    own_redis_cache: RedisServer, client: Client
) -> None:
    post = make_post(title="레디스 없이도 읽힌다")
    urls = ["/", post.get_absolute_url(), post.category.get_absolute_url(), "/talk/"]
    urls += ["/feed/rss/", "/sitemap.xml", "/search/?q=레디스"]
    assert [client.get(url).status_code for url in urls] == [200] * len(urls)

    own_redis_cache.stop()

    statuses = {url: client.get(url).status_code for url in urls}
    server_errors = [url for url, code in statuses.items() if code >= 500]
    print(f"5xx while Redis is down: {len(server_errors)} of {len(urls)} URLs")
    assert statuses == dict.fromkeys(urls, 200)
