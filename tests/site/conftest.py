"""Fixtures for the site experience: a small site with every public page kind."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.conf import settings

from posts.models import Post
from talk.models import Room
from tests.posts.factories import UserFactory, make_category, make_post

CODE_BODY = """첫 문단입니다. A first paragraph.

## 설치

```bash
pip install bdg-blog  # 한글 주석
```

### 하위 제목

![도표](/static/icons/icon-192.png)

끝.
"""


@dataclass
class SiteSample:
    post: Post
    urls: list[str]


def build_site_sample() -> SiteSample:
    """A published post with code, headings and a tag; every public page's URL."""
    author = UserFactory(username="writer", is_staff=True, is_superuser=True)
    category = make_category("쿠버네티스")
    post = make_post(
        author=author,
        title="한글 글 제목",
        body=CODE_BODY,
        category=category,
        tags=["k3s"],
    )
    # The lobby comes from a data migration, which a transactional test's
    # flush removes.
    Room.objects.get_or_create(
        slug=settings.TALK_DEFAULT_ROOM,
        defaults={"name": "로비", "description": "누구나 들어오는 방"},
    )
    urls = [
        "/",
        post.get_absolute_url(),
        category.get_absolute_url(),
        "/categories/",
        "/search/?q=%ED%95%9C%EA%B8%80",
        "/tags/k3s/",
        "/authors/writer/",
        "/talk/",
    ]
    return SiteSample(post=post, urls=urls)


@pytest.fixture
def site_sample(db: None) -> SiteSample:
    return build_site_sample()
