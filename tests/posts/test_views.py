"""Public pages: what visitors see, what they must not see, and old addresses."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from posts import services
from posts.models import Post
from tests.posts.factories import make_category, make_post

pytestmark = pytest.mark.django_db

SEED_TITLE = "온프레미스 블로그 서비스 bdg.blog"


def test_imported_seed_post_shows_title_category_headings_and_images(
    client, superuser, seed_path: Path, seed_images: Path
) -> None:
    call_command(
        "import_posts", str(seed_path), "--images", str(seed_images), stdout=StringIO()
    )
    post = Post.objects.get()
    response = client.get(post.get_absolute_url())
    assert response.status_code == 200
    assert response.templates[0].name == "posts/post_detail.html"
    html = response.content.decode()
    assert f'<h1 class="post-title">{SEED_TITLE}</h1>' in html
    assert 'href="/categories/%EC%BF%A0%EB%B2%84%EB%84%A4%ED%8B%B0%EC%8A%A4/"' in html
    assert "쿠버네티스</a>" in html
    for heading in ("클러스터 사양", "클러스터 구조", "Kubernetes - K3s"):
        assert f">{heading}</h3>" in html
        assert f">{heading}</a>" in html  # listed in the table of contents
    assert '<h3 id="클러스터-사양">' in html
    assert 'src="/images/8eadd587-6ce5-4fca-8443-0dd034302b92"' in html
    assert 'src="/images/8b20162b-dc8f-4532-99d4-068298c76931"' in html  # thumbnail
    assert 'property="og:image" content="http' in html
    assert '"@type": "BlogPosting"' in html
    # The image addresses answer (a redirect to the stored object).
    assert client.get("/images/8eadd587-6ce5-4fca-8443-0dd034302b92").status_code == 302
    home = client.get("/").content.decode()
    assert SEED_TITLE in home and post.get_absolute_url() in home


def test_korean_and_slash_category_names_give_working_urls(client, author) -> None:
    category = make_category("운영체제/컴퓨터구조")
    assert category.slug == "운영체제-컴퓨터구조"
    post = make_post(author=author, title="페이지 교체", category=category)
    page = client.get(category.get_absolute_url())
    assert page.status_code == 200
    assert "페이지 교체" in page.content.decode()
    assert client.get(post.get_absolute_url()).status_code == 200
    assert client.get("/categories/").status_code == 200


def test_drafts_are_404_to_visitors_and_previewable_by_author_and_editors(
    client, author, other_author, editor
) -> None:
    draft = make_post(author=author, title="아직 초안", published=False)
    url = draft.get_absolute_url()
    assert client.get(url).status_code == 404
    client.force_login(other_author)
    assert client.get(url).status_code == 404
    client.force_login(author)
    preview = client.get(url)
    assert preview.status_code == 200
    assert (
        "Draft preview" in preview.content.decode()
        or "초안" in preview.content.decode()
    )
    client.force_login(editor)
    assert client.get(url).status_code == 200
    client.logout()
    assert "아직 초안" not in client.get("/").content.decode()


def test_scheduled_post_appears_when_its_time_passes_without_a_write(
    client, author, monkeypatch
) -> None:
    start = timezone.now()
    post = make_post(
        author=author, title="예약된 글", published_at=start + dt.timedelta(hours=1)
    )
    assert client.get(post.get_absolute_url()).status_code == 404
    assert "예약된 글" not in client.get("/").content.decode()  # now cached
    later = start + dt.timedelta(hours=2)
    monkeypatch.setattr(timezone, "now", lambda: later)
    monkeypatch.setattr("posts.cache.time.time", lambda: later.timestamp())
    assert "예약된 글" in client.get("/").content.decode()
    assert client.get(post.get_absolute_url()).status_code == 200


def test_slug_change_keeps_the_old_address_with_a_301(client, author) -> None:
    post = make_post(author=author, title="옛 제목")
    old_url = post.get_absolute_url()
    services.post_update(post=post, data={"slug": "새-주소"}, by=author)
    response = client.get(old_url)
    assert response.status_code == 301
    assert response["Location"] == post.get_absolute_url()
    assert client.get(post.get_absolute_url()).status_code == 200


def test_category_change_and_rename_keep_old_addresses(client, author) -> None:
    post = make_post(author=author, title="옮겨질 글", category=make_category("리눅스"))
    old_post_url = post.get_absolute_url()
    services.post_update(post=post, data={"category": make_category("쿠버네티스")})
    moved = client.get(old_post_url)
    assert moved.status_code == 301 and moved["Location"] == post.get_absolute_url()

    category = post.category
    old_category_url = category.get_absolute_url()
    services.category_update(category=category, name="K8s", slug="k8s")
    assert client.get(old_category_url)["Location"] == "/categories/k8s/"
    post.refresh_from_db()
    response = client.get(post.get_absolute_url())
    assert response.status_code == 200
    assert client.get(old_post_url).status_code == 301


def test_post_page_shows_previous_and_next_in_its_category(client, author) -> None:
    category = make_category("데이터베이스")
    now = timezone.now()
    older = make_post(
        author=author,
        title="첫째",
        category=category,
        published_at=now - dt.timedelta(days=3),
    )
    middle = make_post(
        author=author,
        title="둘째",
        category=category,
        published_at=now - dt.timedelta(days=2),
    )
    newer = make_post(
        author=author,
        title="셋째",
        category=category,
        published_at=now - dt.timedelta(days=1),
    )
    make_post(
        author=author, title="다른 분류", published_at=now - dt.timedelta(hours=36)
    )
    response = client.get(middle.get_absolute_url())
    assert response.context["previous_post"].title == older.title
    assert response.context["next_post"].title == newer.title
    assert client.get(older.get_absolute_url()).context["previous_post"] is None


def test_author_page_lists_their_published_posts(client, author) -> None:
    author.bio = "쿠버네티스를 좋아합니다"
    author.save()
    make_post(author=author, title="공개 글")
    make_post(author=author, title="비공개 글", published=False)
    response = client.get(f"/authors/{author.username}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "글쓴이" in html and "쿠버네티스를 좋아합니다" in html
    assert "공개 글" in html and "비공개 글" not in html
    assert client.get("/authors/nobody/").status_code == 404


def test_home_paginates_and_rejects_bad_page_numbers(client, author, settings) -> None:
    settings.POSTS_PER_PAGE = 2
    for n in range(5):
        make_post(author=author, title=f"페이지 글 {n}")
    assert len(client.get("/").context["page_obj"].object_list) == 2
    assert client.get("/?page=3").status_code == 200
    assert client.get("/?page=4").status_code == 404
    assert client.get("/?page=abc").status_code == 404


def test_public_page_is_cached_and_a_change_invalidates_it(
    client, author, django_capture_on_commit_callbacks
) -> None:
    post = make_post(author=author, title="캐시될 글")
    first = client.get("/")
    assert first["X-Page-Cache"] == "miss"
    assert client.get("/")["X-Page-Cache"] == "hit"
    with django_capture_on_commit_callbacks(execute=True):
        services.post_update(post=post, data={"title": "바뀐 제목"}, by=author)
    again = client.get("/")
    assert again["X-Page-Cache"] == "miss"
    assert "바뀐 제목" in again.content.decode()


def test_pages_carry_canonical_and_social_meta(client, author, settings) -> None:
    post = make_post(author=author, title="메타 태그")
    html = client.get(post.get_absolute_url()).content.decode()
    canonical = (
        f'<link rel="canonical" href="{settings.SITE_URL}{post.get_absolute_url()}">'
    )
    assert canonical in html
    assert '<meta property="og:title" content="메타 태그">' in html
    assert 'name="twitter:card"' in html
    assert "application/ld+json" in html
    assert "<script>" not in html  # no inline scripts


def test_robots_txt_points_at_the_sitemap(client) -> None:
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert "Sitemap: " in response.content.decode()
    assert "Disallow: /admin/" in response.content.decode()


def test_tag_page_lists_public_posts_with_that_tag(client, author) -> None:
    make_post(author=author, title="태그 달린 글", tags=["쿠버네티스"])
    make_post(
        author=author, title="태그 달린 초안", tags=["쿠버네티스"], published=False
    )
    post = make_post(author=author, title="다른 글")
    response = client.get("/tags/쿠버네티스/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "태그 달린 글" in html and "태그 달린 초안" not in html
    assert client.get("/tags/없는태그/").status_code == 404
    assert (
        'href="/tags/'
        in client.get(
            Post.objects.get(title="태그 달린 글").get_absolute_url()
        ).content.decode()
    )
    assert post.tags.count() == 0
