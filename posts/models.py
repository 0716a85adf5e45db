from __future__ import annotations

from typing import Any

import reversion
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from taggit.managers import TaggableManager

from media_store.models import Image


class CategoryQuerySet(models.QuerySet["Category"]):
    def with_published_counts(self) -> CategoryQuerySet:
        now = timezone.now()
        return self.annotate(
            post_count=models.Count(
                "posts",
                filter=models.Q(
                    posts__status=Post.Status.PUBLISHED,
                    posts__published_at__lte=now,
                ),
            )
        )


@reversion.register()
class Category(models.Model):
    """A shelf for posts; the source blog files every post under exactly one."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(
        _("slug"),
        max_length=120,
        unique=True,
        allow_unicode=True,
        blank=True,
        help_text=_("Leave blank to derive it from the name ('/' becomes '-')."),
    )
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = CategoryQuerySet.as_manager()

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("posts:category", kwargs={"slug": self.slug})


def sees_only_published(user: Any) -> bool:
    """Whether `user` (None: a visitor) can read nothing but public posts."""
    return user is None or not user.is_authenticated or not user.is_staff


class PostQuerySet(models.QuerySet["Post"]):
    def published(self) -> PostQuerySet:
        """Visible to everyone: decided at query time, so scheduled posts go
        public on every replica the moment their time passes, without a cron job."""
        return self.filter(
            status=Post.Status.PUBLISHED, published_at__lte=timezone.now()
        )

    def visible_to(self, user: Any) -> PostQuerySet:
        """Published posts, plus the drafts and scheduled posts `user` may preview."""
        public = models.Q(
            status=Post.Status.PUBLISHED, published_at__lte=timezone.now()
        )
        if sees_only_published(user):
            return self.filter(public)
        if user.has_perm("posts.edit_others_posts"):
            return self
        return self.filter(public | models.Q(author=user))

    def for_listing(self) -> PostQuerySet:
        """Drop the heavy columns that list pages never show."""
        return self.defer("body", "body_html", "search_title", "search_body", "toc")


# Versions keep what an author wrote; derived columns are rebuilt on save.
@reversion.register(exclude=("images", "search_title", "search_body"))
class Post(models.Model):
    """A Markdown article; its HTML is rendered and sanitised once, at save time."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    title = models.CharField(_("title"), max_length=200, unique=True)
    slug = models.SlugField(
        _("slug"),
        max_length=200,
        unique=True,
        allow_unicode=True,
        blank=True,
        help_text=_(
            "The address of the post; leave blank to derive it from the title."
        ),
    )
    body = models.TextField(_("body (Markdown)"), blank=True)
    body_html = models.TextField(_("rendered body"), blank=True, editable=False)
    toc = models.JSONField(_("table of contents"), default=list, editable=False)
    summary = models.TextField(
        _("summary"),
        max_length=500,
        blank=True,
        help_text=_(
            "Shown in lists and link previews; derived from the body if blank."
        ),
    )
    thumbnail = models.ForeignKey(
        Image,
        verbose_name=_("thumbnail"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="thumbnail_of",
    )
    images = models.ManyToManyField(
        Image,
        verbose_name=_("images in the body"),
        blank=True,
        related_name="used_in_posts",
        editable=False,
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        related_name="posts",
    )
    tags = TaggableManager(_("tags"), blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="posts",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    published_at = models.DateTimeField(
        _("published at"),
        null=True,
        blank=True,
        help_text=_("A future time schedules the post."),
    )
    reading_minutes = models.PositiveSmallIntegerField(
        _("reading time (minutes)"), default=1, editable=False
    )
    # Bigram tokens for MariaDB FULLTEXT search (see posts/search.py).
    search_title = models.TextField(blank=True, editable=False)
    search_body = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        indexes = [
            models.Index(fields=["status", "published_at"], name="post_visible_idx"),
            models.Index(
                fields=["category", "status", "published_at"],
                name="post_category_visible_idx",
            ),
        ]
        permissions = [
            ("publish_post", _("Can publish posts")),
            ("edit_others_posts", _("Can edit other authors' posts")),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse(
            "posts:detail",
            kwargs={"category": self.category.slug, "slug": self.slug},
        )

    def clean(self) -> None:
        if self.status == self.Status.PUBLISHED and not self.body.strip():
            raise ValidationError({"body": _("A published post needs a body.")})

    @property
    def is_public(self) -> bool:
        return (
            self.status == self.Status.PUBLISHED
            and self.published_at is not None
            and self.published_at <= timezone.now()
        )

    @property
    def is_scheduled(self) -> bool:
        return (
            self.status == self.Status.PUBLISHED
            and self.published_at is not None
            and self.published_at > timezone.now()
        )


class SlugRedirect(models.Model):
    """An old address of a post or category, answered with a 301 to the new one."""

    class Kind(models.TextChoices):
        POST = "post", _("Post")
        CATEGORY = "category", _("Category")

    kind = models.CharField(max_length=10, choices=Kind.choices)
    old_slug = models.CharField(max_length=200)
    post = models.ForeignKey(
        Post, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "old_slug"], name="unique_redirect_slug"
            )
        ]
        verbose_name = _("old address")
        verbose_name_plural = _("old addresses")

    def __str__(self) -> str:
        return f"{self.kind}:{self.old_slug}"
