from __future__ import annotations

import datetime as dt
from typing import Any

import factory
from django.utils import timezone

from accounts.models import User
from posts import services
from posts.models import Category, Post


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("pw-for-tests-123")


def make_category(name: str = "쿠버네티스", **kwargs: Any) -> Category:
    existing = Category.objects.filter(name=name).first()
    return existing or services.category_create(name=name, **kwargs)


_counter = iter(range(1, 1_000_000))


def make_post(
    *,
    author: User | None = None,
    title: str | None = None,
    body: str = "본문입니다. Some body text.\n\n## 소제목\n\n내용",
    category: Category | None = None,
    published: bool = True,
    published_at: dt.datetime | None = None,
    **kwargs: Any,
) -> Post:
    """A post made through the service, published an hour ago unless told."""
    n = next(_counter)
    if published and published_at is None:
        published_at = timezone.now() - dt.timedelta(hours=1, minutes=n)
    return services.post_create(
        author=author or UserFactory(),
        title=title or f"글 {n}",
        body=body,
        category=category or make_category(),
        status=Post.Status.PUBLISHED if published else Post.Status.DRAFT,
        published_at=published_at,
        **kwargs,
    )
