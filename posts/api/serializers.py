"""Post and category shapes for REST clients (field names as in issue 6)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.api.serializers import AuthorSerializer
from media_store.models import Image
from media_store.templatetags.media import srcset
from posts.models import Category, Post
from posts.selectors import POST_ORDERINGS, PREFETCHED_TAGS

# A post's Markdown; far above any real article, far below a memory problem.
BODY_MAX_CHARS = 200_000
TAGS_MAX = 30
# MariaDB DATETIME holds years 1000-9999; a time zone offset must not push a
# stored value out of that range.
EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)


class ThumbnailUrlsSerializer(serializers.Serializer):
    original = serializers.CharField(help_text="/images/<uuid>: redirects to the file")
    srcset = serializers.CharField(help_text="Smaller copies in the original format")
    srcset_webp = serializers.CharField(help_text="Smaller WebP copies")
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    alt = serializers.CharField()


class PostOutputSerializer(serializers.Serializer):
    title = serializers.CharField()
    slug = serializers.CharField()
    body = serializers.CharField(help_text="Markdown")
    body_html = serializers.CharField(help_text="Rendered and sanitised HTML")
    summary = serializers.CharField()
    category = serializers.CharField(source="category.slug")
    tags = serializers.SerializerMethodField()
    thumbnail = serializers.UUIDField(source="thumbnail_id", allow_null=True)
    thumbnail_urls = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=Post.Status.choices)
    published_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    author = AuthorSerializer()
    url = serializers.CharField(source="get_absolute_url", help_text="The public page")

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_tags(self, post: Post) -> list[str]:
        # Sorted in Python: the prefetched tags, not a new query per post.
        tags = getattr(post, PREFETCHED_TAGS, None)
        if tags is None:
            tags = post.tags.all()
        return sorted(tag.name for tag in tags)

    @extend_schema_field(ThumbnailUrlsSerializer(allow_null=True))
    def get_thumbnail_urls(self, post: Post) -> dict[str, Any] | None:
        image: Image | None = post.thumbnail
        if image is None:
            return None
        url = image.get_absolute_url()
        return {
            "original": url,
            "srcset": srcset(image, webp=False, url=url),
            "srcset_webp": (
                srcset(image, webp=True, url=url) if image.renditions else ""
            ),
            "width": image.width,
            "height": image.height,
            "alt": image.alt,
        }


class PostInputSerializer(serializers.Serializer):
    """What a client may write; `author`, `body_html` and timestamps are derived."""

    title = serializers.CharField(max_length=200)
    slug = serializers.SlugField(
        max_length=200, allow_unicode=True, required=False, allow_blank=True
    )
    body = serializers.CharField(
        max_length=BODY_MAX_CHARS, allow_blank=True, trim_whitespace=False
    )
    summary = serializers.CharField(max_length=500, required=False, allow_blank=True)
    category = serializers.SlugRelatedField(
        slug_field="slug", queryset=Category.objects.all()
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=100),
        max_length=TAGS_MAX,
        required=False,
    )
    thumbnail = serializers.PrimaryKeyRelatedField(
        queryset=Image.objects.all(), allow_null=True, required=False
    )
    status = serializers.ChoiceField(choices=Post.Status.choices, required=False)
    published_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="A future time schedules the post (with status `published`).",
    )

    def validate_published_at(self, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and not EARLIEST <= value <= LATEST:
            raise serializers.ValidationError(
                _("Give a time between the years 1900 and 9000.")
            )
        return value

    def validate_tags(self, value: list[str]) -> list[str]:
        # Tags are case-insensitive: "Django" and "django" are one tag.
        unique: dict[str, str] = {}
        for name in value:
            unique.setdefault(name.casefold(), name)
        return list(unique.values())


class PostFilterSerializer(serializers.Serializer):
    """Query parameters of the post list."""

    # An empty value means "no filter", as with an empty search box.
    category = serializers.CharField(required=False, allow_blank=True, max_length=120)
    tag = serializers.CharField(required=False, allow_blank=True, max_length=100)
    author = serializers.CharField(required=False, allow_blank=True, max_length=150)
    q = serializers.CharField(required=False, allow_blank=True, max_length=200)
    ordering = serializers.ChoiceField(
        choices=POST_ORDERINGS,
        required=False,
        allow_blank=True,
        help_text="Default: newest first (best match first with `q`).",
    )


class CategoryOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    slug = serializers.CharField()
    description = serializers.CharField()
    post_count = serializers.IntegerField(help_text="Published posts")


class CategoryInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    slug = serializers.SlugField(
        max_length=120, allow_unicode=True, required=False, allow_blank=True
    )
    description = serializers.CharField(
        required=False, allow_blank=True, max_length=5000
    )
