"""A blog post page with what the bdg-blog post page shows.

The body is stored already rendered (bdg-blog stores rendered HTML too), so
both sides render a template around the same bytes, and the post knows its
category and its neighbours, as bdg-blog's page does.
"""

from __future__ import annotations

from django.db import models
from wagtail.models import Page
from wagtail.snippets.models import register_snippet
from wagtailcache.cache import WagtailCacheMixin


@register_snippet
class BlogCategory(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True, allow_unicode=True)

    def __str__(self) -> str:
        return self.name


class BlogIndexPage(WagtailCacheMixin, Page):
    subpage_types = ["blog.BlogPage"]


class BlogPage(WagtailCacheMixin, Page):
    head_html = models.TextField(blank=True)
    body_html = models.TextField()
    published_at = models.DateTimeField()
    category = models.ForeignKey(
        BlogCategory, on_delete=models.PROTECT, related_name="pages"
    )

    parent_page_types = ["blog.BlogIndexPage"]

    def get_context(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        context = super().get_context(request, *args, **kwargs)
        siblings = (
            BlogPage.objects.live().sibling_of(self).filter(category=self.category)
        )
        context["previous_post"] = (
            siblings.filter(published_at__lt=self.published_at)
            .order_by("-published_at")
            .first()
        )
        context["next_post"] = (
            siblings.filter(published_at__gt=self.published_at)
            .order_by("published_at")
            .first()
        )
        return context
