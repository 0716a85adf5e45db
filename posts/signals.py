"""Cache invalidation: any write path (admin, services, import, API, shell)
must make cached public pages stale, so this hangs on model signals rather
than on each service."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save

from posts.cache import bump_content_version


def _changed(sender: Any, **kwargs: Any) -> None:
    bump_content_version()


def connect() -> None:
    from taggit.models import TaggedItem

    from posts.models import Category, Post, SlugRedirect

    for model in (Post, Category, SlugRedirect, TaggedItem):
        post_save.connect(_changed, sender=model, dispatch_uid=f"posts-cache-{model}")
        post_delete.connect(
            _changed, sender=model, dispatch_uid=f"posts-cache-del-{model}"
        )
    m2m_changed.connect(
        _changed, sender=Post.images.through, dispatch_uid="posts-cache-images"
    )
