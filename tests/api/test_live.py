"""A REST client against a real daphne: the whole write-and-publish journey,
other authors locked out, and drafts invisible to visitors on every endpoint."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from PIL import Image as PILImage

from tests.posts.factories import make_category, make_post

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "pw-for-tests-123"  # tests.posts.factories.UserFactory


def png() -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (120, 80), (30, 140, 200)).save(out, "PNG")
    return out.getvalue()


def token_client(base: str, username: str) -> httpx.Client:
    response = httpx.post(
        f"{base}/api/v1/auth/token/",
        json={"username": username, "password": PASSWORD},
    )
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    return httpx.Client(
        base_url=base, headers={"Authorization": f"Token {token}"}, timeout=30
    )


def anonymous_sees(visitor: httpx.Client, slug: str, title: str, **where: str) -> list:
    """Every public place a post could show up; returns where it did."""
    seen = []
    for params in [{}, {"q": title}, *({k: v} for k, v in where.items())]:
        listed = visitor.get("/api/v1/posts/", params=params).json()["results"]
        if any(post["slug"] == slug for post in listed):
            seen.append(f"list {params}")
    if visitor.get(f"/api/v1/posts/{slug}/").status_code != 404:
        seen.append("api detail")
    if visitor.get(f"/posts/{where['category']}/{slug}/").status_code != 404:
        seen.append("post page")
    for feed in ("/feed/rss/", "/feed/atom/"):
        if title in visitor.get(feed).text:
            seen.append(feed)
    # The search page repeats the query, so look for a link to the post.
    link = f"/posts/{where['category']}/{quote(slug)}/"
    if link in visitor.get("/search/", params={"q": title}).text:
        seen.append("search page")
    return seen


def test_a_rest_client_writes_publishes_and_is_read_by_visitors(
    live_daphne: Any, author: Any, other_author: Any
) -> None:
    category = make_category("쿠버네티스", slug="k8s")
    base = live_daphne.url
    api = token_client(base, author.username)
    visitor = httpx.Client(base_url=base, timeout=30)

    uploaded = api.post(
        "/api/v1/images/", files={"file": ("d.png", png(), "image/png")},
        data={"alt": "클러스터 도식"},
    )  # fmt: skip
    assert uploaded.status_code == 201, uploaded.text
    image = uploaded.json()

    created = api.post(
        "/api/v1/posts/",
        json={
            "title": "REST로 올린 클러스터 글",
            "body": f"# 도식\n\n{image['markdown']}\n\n설명 본문입니다.",
            "category": category.slug,
            "tags": ["rest"],
            "thumbnail": image["id"],
        },
    )
    assert created.status_code == 201, created.text
    post = created.json()
    slug, title = post["slug"], post["title"]
    assert post["status"] == "draft"
    assert f'src="/images/{image["id"]}"' in post["body_html"]

    hidden = anonymous_sees(
        visitor, slug, title, category="k8s", tag="rest", author=author.username
    )
    assert hidden == []

    # Another author can neither change nor see the draft; later, not change it.
    intruder = token_client(base, other_author.username)
    assert (
        intruder.patch(f"/api/v1/posts/{slug}/", json={"title": "x"}).status_code == 404
    )

    published = api.post(f"/api/v1/posts/{slug}/publish/")
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"

    listed = visitor.get("/api/v1/posts/").json()["results"]
    assert [p["slug"] for p in listed] == [slug]
    assert listed[0]["thumbnail_urls"]["original"] == f"/images/{image['id']}"
    page = visitor.get(post["url"])
    assert page.status_code == 200 and title in page.text
    assert f"/images/{image['id']}" in page.text
    assert title in visitor.get("/feed/rss/").text
    seen = anonymous_sees(
        visitor, slug, title, category="k8s", tag="rest", author=author.username
    )
    assert len(seen) == 10, seen  # 5 lists, detail, page, 2 feeds, search page

    for response in (
        intruder.patch(f"/api/v1/posts/{slug}/", json={"title": "탈취"}),
        intruder.put(
            f"/api/v1/posts/{slug}/",
            json={"title": "t", "body": "b", "category": "k8s"},
        ),
        intruder.delete(f"/api/v1/posts/{slug}/"),
        intruder.post(f"/api/v1/posts/{slug}/unpublish/"),
        intruder.delete(f"/api/v1/images/{image['id']}/"),
    ):  # fmt: skip
        assert response.status_code == 403, response.text
    assert visitor.get(f"/api/v1/posts/{slug}/").json()["title"] == title

    # The image is in use now: its owner cannot delete it either.
    assert api.delete(f"/api/v1/images/{image['id']}/").status_code == 400


def test_an_anonymous_client_never_sees_drafts_or_scheduled_posts(
    live_daphne: Any, author: Any
) -> None:
    import datetime as dt

    from django.utils import timezone

    category = make_category("운영체제", slug="os")
    draft = make_post(
        author=author,
        category=category,
        title="숨은 초안 글",
        published=False,
        tags=["x"],
    )
    scheduled = make_post(
        author=author, category=category, title="예약된 미래 글", tags=["x"],
        published_at=timezone.now() + dt.timedelta(days=2),
    )  # fmt: skip
    visitor = httpx.Client(base_url=live_daphne.url, timeout=30)
    for post in (draft, scheduled):
        seen = anonymous_sees(
            visitor, post.slug, post.title, category="os", tag="x",
            author=author.username,
        )  # fmt: skip
        assert seen == [], (post.title, seen)
        assert visitor.post(f"/api/v1/posts/{post.slug}/publish/").status_code == 401
    counts = visitor.get("/api/v1/categories/os/").json()
    assert counts["post_count"] == 0
