"""posts.services: the rules every write path (admin, import, API) shares."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from reversion.models import Version

from posts import services
from posts.models import Post, SlugRedirect
from tests.posts.factories import make_category, make_post

pytestmark = pytest.mark.django_db


def test_slug_comes_from_the_title_and_stays_unique(author) -> None:
    first = make_post(author=author, title="쿠버네티스 / K3s 설치기")
    assert first.slug == "쿠버네티스-k3s-설치기"
    second = make_post(author=author, title="쿠버네티스 - K3s 설치기")
    assert second.slug == "쿠버네티스-k3s-설치기-2"


def test_summary_is_derived_and_follows_the_body_until_written_by_hand(author) -> None:
    post = make_post(author=author, body="첫 문단의 내용입니다.")
    assert post.summary == "첫 문단의 내용입니다."
    services.post_update(post=post, data={"body": "바뀐 본문입니다."})
    assert post.summary == "바뀐 본문입니다."
    services.post_update(post=post, data={"summary": "직접 쓴 요약"})
    services.post_update(post=post, data={"body": "또 바뀐 본문"})
    assert post.summary == "직접 쓴 요약"


def test_publishing_needs_a_body(author) -> None:
    with pytest.raises(ValidationError) as caught:
        make_post(author=author, body="   ")
    assert "body" in caught.value.message_dict
    draft = make_post(author=author, body="", published=False)
    with pytest.raises(ValidationError):
        services.post_publish(post=draft)


def test_publishing_twice_keeps_the_first_published_at(author) -> None:
    draft = make_post(author=author, published=False)
    services.post_publish(post=draft, by=author)
    first = draft.published_at
    assert first is not None and draft.is_public
    services.post_unpublish(post=draft, by=author)
    services.post_publish(post=draft, by=author)
    assert draft.published_at == first


def test_a_user_without_publish_permission_cannot_publish(groups) -> None:
    from tests.posts.factories import UserFactory

    outsider = UserFactory(username="outsider")
    draft = make_post(author=outsider, published=False)
    with pytest.raises(ValidationError):
        services.post_publish(post=draft, by=outsider)
    assert Post.objects.get(pk=draft.pk).status == Post.Status.DRAFT


def test_duplicate_titles_are_refused(author) -> None:
    make_post(author=author, title="같은 제목")
    with pytest.raises(ValidationError) as caught:
        make_post(author=author, title="같은 제목")
    assert "title" in caught.value.message_dict


def test_slug_change_records_the_old_one_and_reusing_it_clears_it(author) -> None:
    post = make_post(author=author, title="처음", slug="first")
    services.post_update(post=post, data={"slug": "second"})
    assert SlugRedirect.objects.filter(
        kind="post", old_slug="first", post=post
    ).exists()
    other = make_post(author=author, title="다른 글", slug="other")
    services.post_update(post=other, data={"slug": "first"})
    assert not SlugRedirect.objects.filter(old_slug="first").exists()


def test_every_save_keeps_a_version_with_its_author(author) -> None:
    post = make_post(author=author)
    services.post_update(post=post, data={"title": "고친 제목"}, by=author)
    versions = Version.objects.get_for_object(post)
    assert versions.count() == 2
    assert versions.first().revision.user == author
    assert versions.first().field_dict["title"] == "고친 제목"


def test_tags_and_images_in_the_body_are_kept(author) -> None:
    from media_store.services import image_create
    from tests.posts.conftest import png_bytes

    image = image_create(file=png_bytes("x", hue=5))
    post = make_post(
        author=author,
        body=f'사진\n\n<img alt="사진" src="/images/{image.pk}"/>',
        tags=["쿠버네티스", "K3s"],
    )
    assert list(post.images.all()) == [image]
    assert sorted(t.name for t in post.tags.all()) == ["K3s", "쿠버네티스"]
    assert f'width="{image.width}" height="{image.height}"' in post.body_html
    from media_store.usage import find_usages

    assert [u.url for u in find_usages(image)] == [post.get_absolute_url()]


def test_scheduled_post_is_not_public_until_its_time(author) -> None:
    post = make_post(author=author, published_at=timezone.now() + dt.timedelta(hours=3))
    assert post.is_scheduled and not post.is_public
    assert not Post.objects.published().filter(pk=post.pk).exists()


def test_category_slug_replaces_slashes(db) -> None:
    category = make_category("운영체제/컴퓨터구조")
    assert category.slug == "운영체제-컴퓨터구조"
    renamed = services.category_update(category=category, name="OS", slug="")
    assert renamed.slug == "os"
    assert SlugRedirect.objects.filter(
        kind="category", old_slug="운영체제-컴퓨터구조"
    ).exists()


def test_images_the_caller_holds_are_not_looked_up_again(author) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from media_store.models import Image

    category = make_category()
    shown = Image.objects.create(
        width=640, height=360, format="PNG", size=1, sha256="a" * 64, file="x"
    )
    other = Image.objects.create(
        width=300, height=200, format="PNG", size=1, sha256="b" * 64, file="y"
    )
    body = f"![a](/images/{shown.pk})\n\n![b](/images/{other.pk})\n"

    def create(title: str, **kwargs: object) -> tuple[Post, int]:
        with CaptureQueriesContext(connection) as captured:
            post = services.post_create(
                author=author, title=title, body=body, category=category, **kwargs
            )
        return post, len(captured.captured_queries)

    create("first")  # fills per-process caches (content types)
    looked_up, queries = create("looked up")
    handed, fewer = create("handed", known_images=[shown, other])
    partly, partial = create("partly", known_images=[shown])

    assert fewer == queries - 1 and partial == queries
    for post in (looked_up, handed, partly):
        assert set(post.images.all()) == {shown, other}
        assert 'width="640" height="360"' in post.body_html
        assert 'width="300" height="200"' in post.body_html


def test_a_revision_that_cannot_be_saved_leaves_no_post(author, monkeypatch) -> None:
    category = make_category()

    def broken(**kwargs: object) -> None:
        raise RuntimeError("revision store down")

    monkeypatch.setattr("reversion.revisions._save_revision", broken)
    with pytest.raises(RuntimeError, match="revision store down"):
        services.post_create(
            author=author, title="기록 없는 글", body="본문", category=category
        )
    assert not Post.objects.filter(title="기록 없는 글").exists()
