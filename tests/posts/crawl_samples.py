"""API detail routes of posts for the security crawls (tests/security/crawl.py).

The public pages are reached by following links from the demo content.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from posts.models import Category, Post


def samples(*, staff: Any) -> Iterable[str]:
    post = Post.objects.published().first()
    category = Category.objects.first()
    urls = ["/api/v1/no-such-endpoint/"]
    if post is not None:
        urls += [
            f"/api/v1/posts/{post.slug}/",
            # POST-only: a GET answers 405, with the same headers.
            f"/api/v1/posts/{post.slug}/publish/",
            f"/api/v1/posts/{post.slug}/unpublish/",
        ]
    if category is not None:
        urls.append(f"/api/v1/categories/{category.slug}/")
    return urls
