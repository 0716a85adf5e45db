"""Writes to posts and categories. Views, admin, import and the API call these."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import reversion
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from media_store.models import Image
from posts import rendering, search
from posts.cache import bump_content_version
from posts.models import Category, Post, SlugRedirect

SLUG_MAX = 200


def slug_from(text: str, *, max_length: int = SLUG_MAX) -> str:
    """A Unicode slug; '/' becomes '-' so `운영체제/컴퓨터구조` is one path segment."""
    slug = slugify(text.replace("/", "-"), allow_unicode=True)[:max_length].strip("-")
    return slug or "post"


def _unique_slug(model: type[Post] | type[Category], base: str, *, pk: Any) -> str:
    slug, n = base, 2
    while model.objects.filter(slug=slug).exclude(pk=pk).exists():
        suffix = f"-{n}"
        slug = base[: SLUG_MAX - len(suffix)] + suffix
        n += 1
    return slug


def _remember_old_slug(
    *,
    kind: str,
    old_slug: str,
    post: Post | None = None,
    category: Category | None = None,
) -> None:
    SlugRedirect.objects.update_or_create(
        kind=kind, old_slug=old_slug, defaults={"post": post, "category": category}
    )


# --- Categories --------------------------------------------------------------


def category_create(
    *, name: str, slug: str = "", description: str = "", position: int = 0
) -> Category:
    """Create a category; its slug comes from the name when not given."""
    category = Category(name=name.strip(), description=description, position=position)
    category.slug = slug or _unique_slug(Category, slug_from(name), pk=None)
    category.full_clean()
    category.save()
    return category


def category_update(*, category: Category, **fields: Any) -> Category:
    """Change a category; its old address keeps answering with a 301."""
    old_slug = Category.objects.filter(pk=category.pk).values_list("slug", flat=True)
    previous = old_slug.first()
    for name, value in fields.items():
        setattr(category, name, value)
    if not category.slug:
        category.slug = _unique_slug(Category, slug_from(category.name), pk=category.pk)
    category.full_clean()
    with transaction.atomic():
        category.save()
        if previous and previous != category.slug:
            _remember_old_slug(kind="category", old_slug=previous, category=category)
        SlugRedirect.objects.filter(kind="category", old_slug=category.slug).delete()
    return category


def category_delete(*, category: Category) -> None:
    """Delete an empty category; refuses (ValidationError) while posts use it."""
    count = category.posts.count()
    if count:
        raise ValidationError(
            _(
                "The category “%(name)s” still has %(count)d posts; move or "
                "delete them first."
            )
            % {"name": category.name, "count": count},
            code="category_in_use",
        )
    category.delete()


def category_get_or_create(*, name: str) -> Category:
    name = name.strip()
    existing = Category.objects.filter(name=name).first()
    return existing or category_create(name=name)


# --- Posts -------------------------------------------------------------------


def _render_into(
    post: Post, *, summary_given: bool, known_images: Iterable[Image] = ()
) -> list[Image]:
    """Fill the stored HTML, outline, summary, reading time and search tokens.

    Returns the Images the body shows: those in `known_images` (rows the
    caller holds already, as an import does) and the rest from the database.
    """
    rendered = rendering.render_markdown(post.body)
    known = {image.pk: image for image in known_images}
    images = [known[pk] for pk in rendered.image_ids if pk in known]
    missing = [pk for pk in rendered.image_ids if pk not in known]
    if missing:
        images += Image.objects.filter(pk__in=missing)
    sizes = {str(image.pk): (image.width, image.height) for image in images}
    post.body_html = rendering.add_image_sizes(rendered.html, sizes)
    post.toc = rendered.toc
    post.reading_minutes = rendered.reading_minutes
    if not summary_given:
        post.summary = rendering.derive_summary(rendered.html)
    post.search_title = search.index_text(post.title)
    post.search_body = search.index_text(rendered.text)
    return images


def _check_publish_allowed(post: Post, by: AbstractBaseUser | None) -> None:
    if by is not None and not by.has_perm("posts.publish_post"):  # type: ignore[attr-defined]
        raise ValidationError({"status": _("You may not publish posts.")})


def _save(
    post: Post,
    *,
    tags: Iterable[str] | None,
    summary_given: bool,
    by: AbstractBaseUser | None,
    comment: str,
    known_images: Iterable[Image] = (),
) -> Post:
    if not post.slug:
        post.slug = _unique_slug(Post, slug_from(post.title), pk=post.pk)
    if post.status == Post.Status.PUBLISHED and post.published_at is None:
        post.published_at = timezone.now()
    images = _render_into(post, summary_given=summary_given, known_images=known_images)
    post.full_clean()
    adding = post._state.adding
    tags = None if tags is None else [t.strip() for t in tags if t.strip()]
    # The revision is saved inside this block's transaction, so it needs no
    # savepoint of its own (two round trips to MariaDB per save).
    with transaction.atomic(), reversion.create_revision(atomic=False):
        post.save()
        # A new post has no links yet: set() would first read them (and
        # taggit its tags) for nothing, a query or two on every import.
        if adding:
            post.images.add(*images)
        else:
            post.images.set(images)
        if tags or (tags is not None and not adding):
            post.tags.set(tags, clear=False)
        if by is not None:
            reversion.set_user(by)
        reversion.set_comment(comment)
    return post


def post_create(
    *,
    author: AbstractBaseUser,
    title: str,
    body: str,
    category: Category,
    slug: str = "",
    summary: str = "",
    thumbnail: Image | None = None,
    tags: Iterable[str] = (),
    status: str = Post.Status.DRAFT,
    published_at: dt.datetime | None = None,
    created_at: dt.datetime | None = None,
    updated_at: dt.datetime | None = None,
    by: AbstractBaseUser | None = None,
    known_images: Iterable[Image] = (),
) -> Post:
    """Create a post with its rendered HTML (timestamps given only by imports).

    `known_images`: Image rows the caller already holds that the body may
    show (saves looking them up)."""
    now = timezone.now()
    post = Post(
        author=author,
        title=title.strip(),
        slug=slug.strip(),
        body=body,
        category=category,
        summary=summary.strip(),
        thumbnail=thumbnail,
        status=status,
        published_at=published_at,
        created_at=created_at or now,
        updated_at=updated_at or created_at or now,
    )
    if status == Post.Status.PUBLISHED:
        _check_publish_allowed(post, by)
    return _save(
        post,
        tags=list(tags),
        summary_given=bool(post.summary),
        by=by or author,
        comment=_("Created."),
        known_images=known_images,
    )


POST_EDITABLE_FIELDS = {
    "title",
    "slug",
    "body",
    "category",
    "summary",
    "thumbnail",
    "status",
    "published_at",
    "author",
    "created_at",
    "updated_at",
}


def post_update(
    *,
    post: Post,
    data: dict[str, Any],
    by: AbstractBaseUser | None = None,
    comment: str = "",
) -> Post:
    """Change a post; a new slug or category keeps the old address (301)."""
    unknown = set(data) - POST_EDITABLE_FIELDS - {"tags"}
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    stored = Post.objects.filter(pk=post.pk).values("slug", "summary", "status").first()
    old_slug = stored["slug"] if stored else post.slug
    old_summary = stored["summary"] if stored else ""
    was_published = stored is not None and stored["status"] == Post.Status.PUBLISHED
    derived_before = rendering.derive_summary(post.body_html)
    for name, value in data.items():
        if name != "tags":
            setattr(post, name, value)
    if post.status == Post.Status.PUBLISHED and not was_published:
        _check_publish_allowed(post, by)
    # A summary that was derived from the old body follows the new body.
    summary = (post.summary or "").strip()
    summary_given = bool(summary) and not (summary == old_summary == derived_before)
    post.summary = summary
    if "updated_at" not in data:
        post.updated_at = timezone.now()
    changed = [name for name in data if name not in {"updated_at", "created_at"}]
    with transaction.atomic():
        _save(
            post,
            tags=data.get("tags"),
            summary_given=summary_given,
            by=by,
            comment=comment or _("Changed %s.") % ", ".join(changed or ["nothing"]),
        )
        if old_slug and old_slug != post.slug:
            _remember_old_slug(kind="post", old_slug=old_slug, post=post)
        SlugRedirect.objects.filter(kind="post", old_slug=post.slug).delete()
    return post


def post_publish(
    *, post: Post, by: AbstractBaseUser | None = None, at: dt.datetime | None = None
) -> Post:
    """Make a post public now (or at `at`); keeps an earlier publication time."""
    published_at = at or post.published_at or timezone.now()
    return post_update(
        post=post,
        data={"status": Post.Status.PUBLISHED, "published_at": published_at},
        by=by,
        comment=_("Published."),
    )


def post_unpublish(*, post: Post, by: AbstractBaseUser | None = None) -> Post:
    """Turn a post back into a draft; its address answers 404 to visitors again."""
    return post_update(
        post=post, data={"status": Post.Status.DRAFT}, by=by, comment=_("Unpublished.")
    )


def post_delete(*, post: Post) -> None:
    post.delete()


def post_preview_html(*, body: str) -> str:
    """The sanitised HTML the body would get, for the editor's live preview."""
    rendered = rendering.render_markdown(body)
    sizes = {
        str(image.pk): (image.width, image.height)
        for image in Image.objects.filter(pk__in=rendered.image_ids)
    }
    return rendering.add_image_sizes(rendered.html, sizes)


def post_rerender(*, post: Post) -> Post:
    """Re-render stored HTML and search tokens (after a renderer change)."""
    images = _render_into(post, summary_given=True)
    Post.objects.filter(pk=post.pk).update(
        body_html=post.body_html,
        toc=post.toc,
        reading_minutes=post.reading_minutes,
        search_title=post.search_title,
        search_body=post.search_body,
    )
    post.images.set(images)
    # A queryset update sends no signals: invalidate cached pages here.
    bump_content_version()
    return post
