"""Authoring in the admin: who may do what, publishing, preview, history."""

from __future__ import annotations

import pytest
from reversion.models import Version

from posts.models import Post
from tests.posts.factories import make_category, make_post

pytestmark = pytest.mark.django_db


def form_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "title": "관리자에서 쓴 글",
        "slug": "",
        "category": make_category("쿠버네티스").pk,
        "tags": "쿠버네티스, k3s",
        "body": "## 시작\n\n본문입니다.",
        "summary": "",
        "thumbnail": "",
        "status": "draft",
        "published_at_0": "",
        "published_at_1": "",
    }
    data.update(overrides)
    return data


def test_anonymous_users_are_sent_to_the_login(client) -> None:
    response = client.get("/admin/posts/post/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_authors_see_only_their_own_posts(client, author, other_author) -> None:
    mine = make_post(author=author, title="내 글")
    theirs = make_post(author=other_author, title="남의 글")
    client.force_login(author)
    listing = client.get("/admin/posts/post/").content.decode()
    assert "내 글" in listing and "남의 글" not in listing
    assert client.get(f"/admin/posts/post/{mine.pk}/change/").status_code == 200
    forbidden = client.get(f"/admin/posts/post/{theirs.pk}/change/")
    assert forbidden.status_code in (302, 403, 404)
    assert "남의 글" not in forbidden.content.decode()


def test_authors_cannot_change_someone_elses_post_by_posting(
    client, author, other_author
) -> None:
    theirs = make_post(author=other_author, title="남의 글")
    client.force_login(author)
    client.post(
        f"/admin/posts/post/{theirs.pk}/change/",
        form_data(title="가로챈 글", category=theirs.category_id),
    )
    theirs.refresh_from_db()
    assert theirs.title == "남의 글"


def test_editors_see_and_change_every_post(client, editor, author) -> None:
    post = make_post(author=author, title="작가의 글")
    client.force_login(editor)
    assert "작가의 글" in client.get("/admin/posts/post/").content.decode()
    response = client.post(
        f"/admin/posts/post/{post.pk}/change/",
        form_data(
            title="편집된 글",
            category=post.category_id,
            status="published",
            author=author.pk,
            published_at_0="2024-01-02",
            published_at_1="10:00:00",
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    post.refresh_from_db()
    assert post.title == "편집된 글" and post.author == author and post.is_public


def test_author_writes_and_publishes_a_post_in_the_admin(client, author) -> None:
    client.force_login(author)
    response = client.post("/admin/posts/post/add/", form_data(status="published"))
    assert response.status_code == 302, response.content.decode()[:3000]
    post = Post.objects.get()
    assert post.author == author
    assert post.slug == "관리자에서-쓴-글"
    assert post.is_public and '<h2 id="시작">' in post.body_html
    assert sorted(t.name for t in post.tags.all()) == ["k3s", "쿠버네티스"]
    assert Version.objects.get_for_object(post).count() == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": "이미 있는 제목"}, "title", "이미 존재합니다"),
        ({"slug": "taken-slug"}, "slug", "이미 존재합니다"),
        ({"status": "published", "body": "  "}, "body", "본문이 있어야"),
    ],
)
def test_clear_validation_errors(
    client, author, overrides: dict[str, str], field: str, message: str
) -> None:
    make_post(author=author, title="이미 있는 제목", slug="taken-slug")
    client.force_login(author)
    response = client.post("/admin/posts/post/add/", form_data(**overrides))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert field in errors and message in " ".join(errors[field])


def test_users_without_publish_permission_cannot_publish(client, author) -> None:
    from django.contrib.auth.models import Permission

    author.user_permissions.clear()
    group = author.groups.get()
    author.groups.clear()
    author.user_permissions.set(group.permissions.exclude(codename="publish_post"))
    client.force_login(author)
    response = client.post("/admin/posts/post/add/", form_data(status="published"))
    assert response.status_code == 200
    assert "status" in response.context["adminform"].form.errors
    assert not Post.objects.exists()
    assert Permission.objects.filter(codename="publish_post").exists()


def test_bulk_publish_and_unpublish(client, author) -> None:
    drafts = [make_post(author=author, published=False) for _ in range(3)]
    client.force_login(author)
    ids = [str(p.pk) for p in drafts]
    client.post(
        "/admin/posts/post/", {"action": "publish_selected", "_selected_action": ids}
    )
    assert Post.objects.published().count() == 3
    client.post(
        "/admin/posts/post/",
        {"action": "unpublish_selected", "_selected_action": ids[:1]},
    )
    assert Post.objects.published().count() == 2


def test_live_preview_returns_sanitised_html(client, author) -> None:
    client.force_login(author)
    response = client.post(
        "/admin/posts/post/preview/",
        {"body": "## 미리보기\n\n<script>alert(1)</script>**굵게**"},
    )
    assert response.status_code == 200
    html = response.json()["html"]
    assert '<h2 id="미리보기">' in html and "<strong>굵게</strong>" in html
    assert "<script" not in html


def test_preview_is_refused_to_visitors(client) -> None:
    response = client.post("/admin/posts/post/preview/", {"body": "x"})
    assert response.status_code == 302


def test_history_shows_who_changed_what_with_a_diff_and_restores(
    client, author
) -> None:
    client.force_login(author)
    client.post("/admin/posts/post/add/", form_data(body="첫 번째 본문"))
    post = Post.objects.get()
    client.post(f"/admin/posts/post/{post.pk}/change/", form_data(body="두 번째 본문"))
    versions = list(Version.objects.get_for_object(post))
    assert len(versions) == 2
    history = client.get(f"/admin/posts/post/{post.pk}/history/").content.decode()
    assert author.username in history and "변경 비교" in history
    diff = client.get(f"/admin/posts/post/{post.pk}/history/{versions[0].pk}/diff/")
    text = diff.content.decode()
    assert diff.status_code == 200
    assert '<span class="diff-removed">-첫 번째 본문</span>' in text
    assert '<span class="diff-added">+두 번째 본문</span>' in text
    # Restore the first version through reversion's revert form.
    oldest = versions[-1]
    client.post(
        f"/admin/posts/post/{post.pk}/history/{oldest.pk}/",
        form_data(body="첫 번째 본문"),
    )
    post.refresh_from_db()
    assert post.body == "첫 번째 본문"
    assert "첫 번째 본문" in post.body_html


def test_view_on_site_opens_the_draft_for_its_author(client, author) -> None:
    draft = make_post(author=author, title="사이트에서 보기", published=False)
    client.force_login(author)
    change = client.get(f"/admin/posts/post/{draft.pk}/change/").content.decode()
    assert "/admin/r/" in change  # Django's "view on site" link
    response = client.get(f"/admin/posts/post/{draft.pk}/change/")
    link = response.context["original"].get_absolute_url()
    page = client.get(link)
    assert page.status_code == 200 and "사이트에서 보기" in page.content.decode()
    client.logout()
    assert client.get(link).status_code == 404
