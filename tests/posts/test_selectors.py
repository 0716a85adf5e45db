"""Reads behind the public pages."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from media_store.services import image_create
from posts import selectors
from tests.posts.conftest import png_bytes
from tests.posts.factories import UserFactory, make_category, make_post

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


def test_a_visitor_gets_the_public_post_and_what_its_page_shows_in_one_query(
    author, django_assert_num_queries
) -> None:
    image = image_create(file=png_bytes("thumb"), alt="썸네일", uploader=author)
    post = make_post(
        author=author,
        category=make_category("데이터베이스"),
        thumbnail=image,
        body="# 제목\n\n## 소제목\n\n본문",
    )
    expected = selectors.post_get_for_view(slug=post.slug, with_source=False)
    assert expected is not None
    with django_assert_num_queries(1):
        found = selectors.post_get_for_page(slug=post.slug)
        assert found is not None
        # The related objects come with it, converted as the ORM converts them.
        assert found.category.name == "데이터베이스"
        assert found.author.public_name == "글쓴이"
        assert isinstance(found.thumbnail.pk, uuid.UUID)
        assert found.thumbnail.renditions == image.renditions
    assert found.toc == expected.toc and found.toc
    assert found.published_at == expected.published_at
    assert found.published_at.tzinfo is not None
    for model_field in type(found)._meta.concrete_fields:
        if model_field.attname not in found.get_deferred_fields():
            name = model_field.attname
            assert getattr(found, name) == getattr(expected, name), name
    # What the page never shows stays in the database.
    assert {"body", "search_title", "search_body"} <= found.get_deferred_fields()
    assert "password" in found.author.get_deferred_fields()


def test_a_post_without_a_thumbnail_has_none_without_another_query(
    author, django_assert_num_queries
) -> None:
    post = make_post(author=author)
    with django_assert_num_queries(1):
        found = selectors.post_get_for_page(slug=post.slug)
        assert found is not None and found.thumbnail is None


def test_a_visitor_gets_no_draft_no_scheduled_post_and_no_unknown_slug(
    author,
) -> None:
    draft = make_post(author=author, published=False)
    scheduled = make_post(
        author=author, published_at=timezone.now() + dt.timedelta(hours=1)
    )
    visitor = UserFactory(username="reader")
    for slug in (draft.slug, scheduled.slug, "no-such-post"):
        assert selectors.post_get_for_page(slug=slug) is None
        assert selectors.post_get_for_page(slug=slug, user=visitor) is None


def test_the_author_previews_their_draft_through_the_page_selector(author) -> None:
    draft = make_post(author=author, published=False)
    found = selectors.post_get_for_page(slug=draft.slug, user=author)
    assert found is not None and found.pk == draft.pk
    assert "body" in found.get_deferred_fields()
