"""Reads behind the public pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from posts import selectors
from tests.posts.factories import make_category, make_post

pytestmark = pytest.mark.django_db


def test_page_links_are_the_tags_in_tag_order_and_the_public_neighbours(
    author, django_assert_num_queries
) -> None:
    category = make_category("데이터베이스")
    now = timezone.now()
    older = make_post(
        author=author, category=category, published_at=now - dt.timedelta(days=3)
    )
    make_post(
        author=author,
        category=category,
        published_at=now - dt.timedelta(days=2, hours=12),
        published=False,
    )
    long_title = "긴 제목 " * 20
    post = make_post(
        author=author,
        category=category,
        published_at=now - dt.timedelta(days=2),
        tags=["zeta", "쿠버네티스", "alpha-with-a-much-longer-name-than-prev-or-next"],
    )
    newer = make_post(
        author=author,
        title=long_title.strip(),
        category=category,
        published_at=now - dt.timedelta(days=1),
    )
    make_post(author=author, category=category, published_at=now + dt.timedelta(days=1))
    make_post(author=author, published_at=now - dt.timedelta(hours=36))
    with django_assert_num_queries(1):
        links = selectors.post_page_links(post=post)
    assert [tag.pk for tag in links.tags] == sorted(tag.pk for tag in post.tags.all())
    assert {tag.name for tag in links.tags} == {t.name for t in post.tags.all()}
    assert links.previous is not None and links.next is not None
    assert (links.previous.slug, links.previous.title) == (older.slug, older.title)
    assert (links.next.slug, links.next.title) == (newer.slug, newer.title)
    assert links.next.get_absolute_url() == newer.get_absolute_url()


def test_a_draft_has_its_tags_and_no_neighbours(author) -> None:
    category = make_category("데이터베이스")
    make_post(author=author, category=category)
    draft = make_post(author=author, category=category, published=False, tags=["k3s"])
    links = selectors.post_page_links(post=draft)
    assert [tag.name for tag in links.tags] == ["k3s"]
    assert links.previous is None and links.next is None
