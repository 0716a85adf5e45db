"""Posts and categories over REST: visibility, writes through the services,
field names, filters, conditional GET and a constant query count."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from media_store.services import image_create
from posts.cache import next_publish_at
from posts.models import Category, Post
from tests.posts.conftest import png_bytes
from tests.posts.factories import make_category, make_post

pytestmark = pytest.mark.django_db

POSTS = "/api/v1/posts/"
CATEGORIES = "/api/v1/categories/"


def warm_content_state() -> None:
    """Read the shared content state once, as the first request after a
    content change does (one query, then Redis for every replica)."""
    next_publish_at()


def client_for(user: Any = None) -> APIClient:
    api = APIClient()
    if user is not None:
        api.force_authenticate(user)
    return api


def new_post(category: Category, **fields: Any) -> dict[str, Any]:
    return {
        "title": "API로 쓴 글",
        "body": "# 제목\n\n본문 **굵게** <script>alert(1)</script>",
        "category": category.slug,
        "tags": ["django", "API"],
        **fields,
    }


# --- reading ---------------------------------------------------------------


def test_visitors_list_published_posts_only(author: Any) -> None:
    public = make_post(author=author, title="공개 글")
    make_post(author=author, title="초안", published=False)
    make_post(
        author=author,
        title="예약 글",
        published_at=timezone.now() + dt.timedelta(days=1),
    )
    response = client_for().get(POSTS)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert [p["slug"] for p in body["results"]] == [public.slug]


def test_a_post_has_the_documented_fields_and_public_author_only(author: Any) -> None:
    image = image_create(file=png_bytes("thumb"), alt="썸네일", uploader=author)
    post = make_post(author=author, thumbnail=image, tags=["k8s"])
    data = client_for().get(f"{POSTS}{post.slug}/").json()
    assert set(data) == {
        "title", "slug", "body", "body_html", "summary", "category", "tags",
        "thumbnail", "thumbnail_urls", "status", "published_at", "created_at",
        "updated_at", "author", "url",
    }  # fmt: skip
    assert data["author"] == {"username": "writer", "display_name": "글쓴이"}
    assert data["category"] == post.category.slug
    assert data["tags"] == ["k8s"]
    assert data["thumbnail"] == str(image.pk)
    assert data["thumbnail_urls"]["original"] == f"/images/{image.pk}"
    assert data["status"] == "published"
    assert data["url"] == post.get_absolute_url()
    assert "<h2" in data["body_html"]


def test_body_html_is_sanitised(author: Any) -> None:
    response = client_for(author).post(POSTS, new_post(make_category()), format="json")
    assert response.status_code == 201, response.json()
    html = response.json()["body_html"]
    assert "<strong>굵게</strong>" in html
    assert "<script" not in html


def test_a_draft_is_404_to_visitors_and_other_authors_but_not_its_author(
    author: Any, other_author: Any, editor: Any
) -> None:
    draft = make_post(author=author, published=False)
    url = f"{POSTS}{draft.slug}/"
    assert client_for().get(url).status_code == 404
    assert client_for(other_author).get(url).status_code == 404
    assert client_for(author).get(url).json()["status"] == "draft"
    assert client_for(editor).get(url).status_code == 200


def test_list_filters_by_category_tag_author_and_search(
    author: Any, other_author: Any
) -> None:
    k8s = make_category("쿠버네티스")
    os_ = make_category("운영체제")
    a = make_post(author=author, category=k8s, title="클러스터 구축기", tags=["infra"])
    b = make_post(author=other_author, category=os_, title="스케줄러 이야기")
    api = client_for()

    def slugs(**params: str) -> list[str]:
        response = api.get(POSTS, params)
        assert response.status_code == 200, response.json()
        return [p["slug"] for p in response.json()["results"]]

    assert slugs(category=k8s.slug) == [a.slug]
    assert slugs(tag="infra") == [a.slug]
    assert slugs(author="someone") == [b.slug]
    assert slugs(category="nope") == []


# InnoDB adds rows to a FULLTEXT index only when they commit.
@pytest.mark.django_db(transaction=True)
def test_search_uses_the_sites_full_text_search_and_skips_drafts(
    author: Any, clear_cache: None
) -> None:
    a = make_post(author=author, title="클러스터 구축기")
    b = make_post(author=author, title="스케줄러 이야기", body="런큐와 타임슬라이스")
    make_post(author=author, title="비밀 스케줄러 초안", published=False)
    api = client_for()

    def slugs(**params: str) -> list[str]:
        return [p["slug"] for p in api.get(POSTS, params).json()["results"]]

    assert slugs(q="스케줄러") == [b.slug]
    assert slugs(q="클러스터") == [a.slug]
    assert slugs(q="타임슬라이스") == [b.slug]
    assert len(slugs(q="스케줄러", ordering="title")) == 1


def test_ordering_and_page_size(author: Any) -> None:
    for title in ["가", "나", "다"]:
        make_post(author=author, title=title)
    api = client_for()
    first = api.get(POSTS, {"ordering": "title", "page_size": 2}).json()
    assert [p["title"] for p in first["results"]] == ["가", "나"]
    assert first["count"] == 3 and first["next"] and first["previous"] is None
    assert api.get(POSTS, {"ordering": "sideways"}).status_code == 400
    assert api.get(POSTS, {"page": 99}).status_code == 404


def _make_many(author: Any, n: int) -> None:
    image = image_create(file=png_bytes("many"), uploader=author)
    category = make_category()
    for i in range(n):
        make_post(author=author, category=category, thumbnail=image, tags=[f"t{i}"])


@pytest.mark.parametrize("n", [5, 100])
def test_the_list_runs_the_same_queries_whatever_the_page_size(
    author: Any, n: int, django_assert_num_queries: Any
) -> None:
    _make_many(author, n)
    api = client_for()
    warm_content_state()
    # count, page, tags
    with django_assert_num_queries(3):
        response = api.get(POSTS, {"page_size": 100})
    assert len(response.json()["results"]) == n


def test_an_author_sees_their_own_drafts_in_the_list(author: Any) -> None:
    make_post(author=author, title="내 초안", published=False)
    titles = [p["title"] for p in client_for(author).get(POSTS).json()["results"]]
    assert "내 초안" in titles


# --- conditional GET -------------------------------------------------------


@pytest.mark.parametrize("kind", ["list", "detail"])
def test_list_and_detail_answer_304_to_a_matching_etag_or_date(
    author: Any, kind: str
) -> None:
    post = make_post(author=author)
    url = POSTS if kind == "list" else f"{POSTS}{post.slug}/"
    api = client_for()
    first = api.get(url)
    assert first.status_code == 200
    assert first["ETag"] and first["Last-Modified"]
    again = api.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    since = api.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert since.status_code == 304


def test_a_change_makes_the_etag_stale(author: Any) -> None:
    post = make_post(author=author)
    url = f"{POSTS}{post.slug}/"
    etag = client_for().get(url)["ETag"]
    client_for(author).patch(url, {"summary": "새 요약"}, format="json")
    response = client_for().get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response.json()["summary"] == "새 요약"


# --- writing ---------------------------------------------------------------


def test_an_author_creates_a_draft_with_tags_and_thumbnail(author: Any) -> None:
    image = image_create(file=png_bytes("t"), uploader=author)
    category = make_category()
    response = client_for(author).post(
        POSTS, new_post(category, thumbnail=str(image.pk)), format="json"
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == "draft"
    assert data["tags"] == ["API", "django"]
    post = Post.objects.get(slug=data["slug"])
    assert post.author == author and post.thumbnail == image
    assert client_for().get(f"{POSTS}{post.slug}/").status_code == 404


def test_bad_input_is_400_with_field_errors(author: Any) -> None:
    api = client_for(author)
    response = api.post(POSTS, {"title": "", "category": "nope"}, format="json")
    assert response.status_code == 400
    assert {"title", "body", "category"} <= set(response.json())
    response = api.post(
        POSTS,
        new_post(make_category(), thumbnail="00000000-0000-0000-0000-000000000000"),
        format="json",
    )
    assert response.status_code == 400 and "thumbnail" in response.json()


def test_a_duplicate_title_is_a_field_error(author: Any) -> None:
    make_post(author=author, title="같은 제목")
    response = client_for(author).post(
        POSTS, new_post(make_category(), title="같은 제목"), format="json"
    )
    assert response.status_code == 400
    assert "title" in response.json()


def test_publishing_an_empty_body_is_refused(author: Any) -> None:
    response = client_for(author).post(
        POSTS, new_post(make_category(), body="", status="published"), format="json"
    )
    assert response.status_code == 400
    assert "body" in response.json()


def test_publish_and_unpublish_actions(author: Any) -> None:
    draft = make_post(author=author, published=False)
    api = client_for(author)
    published = api.post(f"{POSTS}{draft.slug}/publish/")
    assert published.status_code == 200
    assert published.json()["status"] == "published"
    assert client_for().get(f"{POSTS}{draft.slug}/").status_code == 200
    assert api.post(f"{POSTS}{draft.slug}/unpublish/").json()["status"] == "draft"
    assert client_for().get(f"{POSTS}{draft.slug}/").status_code == 404


def test_a_user_without_publish_permission_cannot_publish(
    author: Any, groups: None
) -> None:
    from django.contrib.auth.models import Permission

    author.user_permissions.add(Permission.objects.get(codename="change_post"))
    author.groups.clear()
    author.user_permissions.add(
        Permission.objects.get(codename="add_post"),
        Permission.objects.get(codename="view_post"),
    )
    draft = make_post(author=author, published=False)
    from accounts.models import User

    fresh = User.objects.get(pk=author.pk)
    response = client_for(fresh).post(f"{POSTS}{draft.slug}/publish/")
    assert response.status_code == 403


def test_another_author_cannot_change_or_delete_a_post(
    author: Any, other_author: Any
) -> None:
    post = make_post(author=author)
    url = f"{POSTS}{post.slug}/"
    api = client_for(other_author)
    assert api.patch(url, {"title": "탈취"}, format="json").status_code == 403
    assert api.delete(url).status_code == 403
    assert api.post(f"{url}unpublish/").status_code == 403
    post.refresh_from_db()
    assert post.title != "탈취" and post.status == "published"


def test_an_editor_changes_anyones_post(author: Any, editor: Any) -> None:
    post = make_post(author=author)
    response = client_for(editor).patch(
        f"{POSTS}{post.slug}/", {"title": "편집자가 고친 제목"}, format="json"
    )
    assert response.status_code == 200
    post.refresh_from_db()
    assert post.title == "편집자가 고친 제목" and post.author == author


def test_put_replaces_and_a_new_slug_keeps_the_old_address(author: Any) -> None:
    post = make_post(author=author, tags=["old"])
    old_url = post.get_absolute_url()
    data = new_post(post.category, slug="new-slug", tags=["new"])
    response = client_for(author).put(f"{POSTS}{post.slug}/", data, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["slug"] == "new-slug"
    assert response.json()["tags"] == ["new"]
    moved = client_for().get(old_url)
    assert moved.status_code == 301
    assert moved["Location"] == Post.objects.get(pk=post.pk).get_absolute_url()


def test_anonymous_writes_are_401(author: Any) -> None:
    post = make_post(author=author)
    api = client_for()
    assert api.post(POSTS, {}, format="json").status_code == 401
    assert api.patch(f"{POSTS}{post.slug}/", {}, format="json").status_code == 401
    assert api.delete(f"{POSTS}{post.slug}/").status_code == 401
    assert api.post(f"{POSTS}{post.slug}/publish/").status_code == 401


def test_the_owner_deletes_a_post(author: Any) -> None:
    post = make_post(author=author)
    assert client_for(author).delete(f"{POSTS}{post.slug}/").status_code == 204
    assert not Post.objects.filter(pk=post.pk).exists()


# --- categories --------------------------------------------------------------


def test_categories_list_published_post_counts(author: Any) -> None:
    k8s = make_category("쿠버네티스")
    make_category("빈 분류")
    make_post(author=author, category=k8s)
    make_post(author=author, category=k8s, published=False)
    data = client_for().get(CATEGORIES).json()
    counts = {c["name"]: c["post_count"] for c in data["results"]}
    assert counts == {"쿠버네티스": 1, "빈 분류": 0}
    detail = client_for().get(f"{CATEGORIES}{k8s.slug}/").json()
    assert detail == {
        "name": "쿠버네티스",
        "slug": k8s.slug,
        "description": "",
        "post_count": 1,
    }


def test_only_editors_write_categories(author: Any, editor: Any) -> None:
    assert client_for(author).post(CATEGORIES, {"name": "새 분류"}).status_code == 403
    assert client_for().post(CATEGORIES, {"name": "새 분류"}).status_code == 401
    api = client_for(editor)
    created = api.post(CATEGORIES, {"name": "운영체제/컴퓨터구조"}, format="json")
    assert created.status_code == 201
    assert created.json()["slug"] == "운영체제-컴퓨터구조"
    changed = api.patch(
        f"{CATEGORIES}{created.json()['slug']}/",
        {"description": "설명"},
        format="json",
    )
    assert changed.json()["description"] == "설명"
    assert (
        client_for(author).delete(f"{CATEGORIES}{created.json()['slug']}/").status_code
        == 403
    )
    assert api.delete(f"{CATEGORIES}{created.json()['slug']}/").status_code == 204


def test_deleting_a_category_with_posts_is_refused_clearly(
    author: Any, editor: Any
) -> None:
    category = make_category("쓰이는 분류")
    make_post(author=author, category=category, published=False)
    response = client_for(editor).delete(f"{CATEGORIES}{category.slug}/")
    assert response.status_code == 400
    assert "still has 1 posts" in response.json()["non_field_errors"][0]
    assert Category.objects.filter(pk=category.pk).exists()


def test_a_duplicate_category_name_is_a_field_error(editor: Any) -> None:
    make_category("중복")
    response = client_for(editor).post(CATEGORIES, {"name": "중복"}, format="json")
    assert response.status_code == 400 and "name" in response.json()


def test_list_sends_vary_on_credentials(author: Any) -> None:
    make_post(author=author)
    response = client_for().get(POSTS)
    assert "Authorization" in response["Vary"]


def test_queries_do_not_grow_with_tags_per_post(author: Any) -> None:
    category = make_category()
    for i in range(3):
        make_post(author=author, category=category, tags=[f"a{i}", f"b{i}", "c"])
    warm_content_state()
    with CaptureQueriesContext(connection) as ctx:
        client_for().get(POSTS)
    assert len(ctx.captured_queries) == 3


def test_a_browser_session_works_and_needs_the_csrf_token(author: Any) -> None:
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(author)
    draft = make_post(author=author, published=False)
    assert browser.get(f"{POSTS}{draft.slug}/").status_code == 200
    url = f"{POSTS}{draft.slug}/"
    forged = browser.patch(url, {"summary": "x"}, content_type="application/json")
    assert forged.status_code == 403
    browser.get("/admin/")  # sets the CSRF cookie, as any staff page does
    token = browser.cookies["csrftoken"].value
    sent = browser.patch(
        url,
        {"summary": "세션"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert sent.status_code == 200 and sent.json()["summary"] == "세션"
