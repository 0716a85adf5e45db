"""RSS, Atom and the sitemap: valid XML listing only public posts."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET  # noqa: S405 - our own responses

import pytest
from django.utils import timezone

from tests.posts.factories import make_category, make_post

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def parse(content: bytes) -> ET.Element:
    """Strict XML parsing: a malformed feed raises ParseError."""
    return ET.fromstring(content)  # noqa: S314 - the site's own output


@pytest.fixture
def posts(author):  # type: ignore[no-untyped-def]
    linux = make_category("리눅스")
    return {
        "public": make_post(
            author=author,
            title="공개된 글",
            body="## 본문\n\n**전체 내용**",
            category=linux,
        ),
        "other": make_post(author=author, title="다른 분류의 글"),
        "draft": make_post(
            author=author, title="초안 글", published=False, category=linux
        ),
        "scheduled": make_post(
            author=author,
            title="예약 글",
            category=linux,
            published_at=timezone.now() + dt.timedelta(days=2),
        ),
    }


def test_rss_feed_parses_and_has_full_content_of_public_posts_only(
    client, posts
) -> None:
    response = client.get("/feed/rss/")
    assert response.status_code == 200
    root = parse(response.content)
    items = root.findall("./channel/item")
    assert {i.findtext("title") for i in items} == {"공개된 글", "다른 분류의 글"}
    content = {
        i.findtext("title"): i.findtext(
            "{http://purl.org/rss/1.0/modules/content/}encoded"
        )
        for i in items
    }
    assert "<strong>전체 내용</strong>" in content["공개된 글"]


def test_atom_feed_parses_and_lists_public_posts_only(client, posts) -> None:
    root = parse(client.get("/feed/atom/").content)
    titles = {e.findtext(f"{ATOM}title") for e in root.findall(f"{ATOM}entry")}
    assert titles == {"공개된 글", "다른 분류의 글"}


def test_category_feeds_list_only_that_categorys_public_posts(client, posts) -> None:
    slug = posts["public"].category.slug
    rss = parse(client.get(f"/categories/{slug}/feed/rss/").content)
    assert [i.findtext("title") for i in rss.findall("./channel/item")] == ["공개된 글"]
    atom = parse(client.get(f"/categories/{slug}/feed/atom/").content)
    assert [e.findtext(f"{ATOM}title") for e in atom.findall(f"{ATOM}entry")] == [
        "공개된 글"
    ]
    assert client.get("/categories/없는분류/feed/rss/").status_code == 404


def test_sitemap_parses_and_lists_public_posts_and_categories_only(
    client, posts
) -> None:
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    root = parse(response.content)
    locations = [loc.text or "" for loc in root.iter(f"{SITEMAP}loc")]
    from urllib.parse import unquote

    paths = {
        "/" + unquote(loc.split("://", 1)[1].split("/", 1)[1]) for loc in locations
    }

    def path(key: str) -> str:
        return unquote(posts[key].get_absolute_url())

    assert path("public") in paths and path("other") in paths
    assert path("draft") not in paths and path("scheduled") not in paths
    assert "/categories/리눅스/" in paths
