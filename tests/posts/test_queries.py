"""Public pages run a fixed number of SQL queries, whatever the content size."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from taggit.models import Tag, TaggedItem

from posts.models import Category, Post
from tests.posts.factories import make_category, make_post

pytestmark = pytest.mark.django_db

# Uncached (page cache off, header categories and content state warm):
EXPECTED = {
    "home": 2,  # count + page of posts with category/author/thumbnail joined
    "category": 3,  # category + count + page
    "post": 2,  # post with joins + its tags and previous/next in one UNION
}


def build(n: int, author) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """n posts over 10 categories with 3 tags each, bulk-made from one rendered post."""
    categories = [make_category(f"분류 {i}") for i in range(10)]
    model = make_post(
        author=author,
        title="본보기",
        body="# 제목\n\n본문 " * 20,
        category=categories[0],
    )
    model.tags.add("쿠버네티스", "k3s", "mariadb")
    now = timezone.now()
    posts = [
        Post(
            title=f"대량 글 {i}",
            slug=f"bulk-{i}",
            body=model.body,
            body_html=model.body_html,
            toc=model.toc,
            summary=model.summary,
            category=categories[i % 10],
            author=author,
            status=Post.Status.PUBLISHED,
            published_at=now - dt.timedelta(minutes=i + 1),
        )
        for i in range(n - 1)
    ]
    Post.objects.bulk_create(posts)
    tags = list(Tag.objects.all())
    ids = list(Post.objects.values_list("pk", flat=True))
    from django.contrib.contenttypes.models import ContentType

    content_type = ContentType.objects.get_for_model(Post)
    TaggedItem.objects.bulk_create(
        [
            TaggedItem(tag=tag, content_type=content_type, object_id=pk)
            for pk in ids
            if pk != model.pk
            for tag in tags
        ]
    )
    middle = (
        Post.objects.select_related("category").get(slug=f"bulk-{n // 2}")
        if n > 2
        else model
    )
    return {
        "home": "/",
        "category": categories[0].get_absolute_url(),
        "post": middle.get_absolute_url(),
    }


@pytest.mark.parametrize("n", [5, 500])
@pytest.mark.parametrize("page", ["home", "category", "post"])
def test_public_pages_run_a_constant_number_of_queries(
    client, author, settings, django_assert_num_queries, n: int, page: str
) -> None:
    settings.POSTS_PAGE_CACHE_SECONDS = 0
    urls = build(n, author)
    assert Post.objects.count() == n and Category.objects.count() == 10
    assert client.get(urls[page]).status_code == 200  # warms header categories
    with django_assert_num_queries(EXPECTED[page]):
        response = client.get(urls[page])
    assert response.status_code == 200


@pytest.mark.parametrize("n", [5, 500])
def test_a_cached_page_runs_no_queries(
    client, author, django_assert_num_queries, n: int
) -> None:
    urls = build(n, author)
    client.get(urls["post"])
    with django_assert_num_queries(0):
        response = client.get(urls["post"])
    assert response["X-Page-Cache"] == "hit"


def test_the_post_page_reads_neither_the_markdown_nor_the_content_state_twice(
    client, author, settings, monkeypatch
) -> None:
    """The page renders `body_html`, so the Markdown source stays in the
    database; and the content state behind the cache keys (page, header
    categories, expiry) is one Redis GET per request."""
    from django.core.cache import caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from posts.cache import STATE_KEY

    settings.POSTS_PAGE_CACHE_SECONDS = 60
    urls = build(5, author)
    client.get(urls["home"])  # header categories cached for this version
    backend = caches["default"]
    real_get = backend.get
    keys: list[str] = []

    def get(key: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        keys.append(key)
        return real_get(key, *args, **kwargs)

    monkeypatch.setattr(backend, "get", get)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(urls["post"])
    assert response.status_code == 200 and response["X-Page-Cache"] == "miss"
    post_sql = captured.captured_queries[0]["sql"]
    assert "FROM `posts_post`" in post_sql and ".`body_html`" in post_sql
    assert ".`body`," not in post_sql
    assert keys.count(STATE_KEY) == 1, keys
