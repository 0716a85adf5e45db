"""RSS and Atom feeds with full content, for the site and per category."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed

from posts import selectors
from posts.models import Category, Post

FEED_LENGTH = 20


class FullContentRss(Rss201rev2Feed):
    """RSS 2.0 with the whole post in content:encoded."""

    def rss_attributes(self) -> dict[str, str]:
        attrs = super().rss_attributes()
        attrs["xmlns:content"] = "http://purl.org/rss/1.0/modules/content/"
        return attrs

    def add_item_elements(self, handler, item) -> None:  # type: ignore[no-untyped-def]
        super().add_item_elements(handler, item)
        handler.addQuickElement("content:encoded", item["content_encoded"])


class FullContentAtom(Atom1Feed):
    def add_item_elements(self, handler, item) -> None:  # type: ignore[no-untyped-def]
        super().add_item_elements(handler, item)
        handler.addQuickElement("content", item["content_encoded"], {"type": "html"})


class LatestPostsFeed(Feed):
    feed_type = FullContentRss

    def title(self) -> str:
        return settings.SITE_NAME

    def link(self) -> str:
        return "/"

    def description(self) -> str:
        return f"{settings.SITE_NAME}: latest posts"

    def items(self) -> list[Post]:
        return list(selectors.post_list_for_feed()[:FEED_LENGTH])

    def item_title(self, item: Post) -> str:
        return item.title

    def item_description(self, item: Post) -> str:
        return item.summary

    def item_link(self, item: Post) -> str:
        return item.get_absolute_url()

    def item_pubdate(self, item: Post) -> dt.datetime | None:
        return item.published_at

    def item_updateddate(self, item: Post) -> dt.datetime:
        return item.updated_at

    def item_author_name(self, item: Post) -> str:
        return item.author.public_name

    def item_categories(self, item: Post) -> list[str]:
        return [item.category.name]

    def item_extra_kwargs(self, item: Post) -> dict[str, str]:
        return {"content_encoded": item.body_html}


class LatestPostsAtomFeed(LatestPostsFeed):
    feed_type = FullContentAtom
    subtitle = LatestPostsFeed.description


class CategoryFeed(LatestPostsFeed):
    def get_object(self, request: HttpRequest, slug: str) -> Category:  # type: ignore[override]
        category = selectors.category_get(slug=slug)
        if category is None:
            raise Http404("No such category")
        return category

    def title(self, obj: Category) -> str:  # type: ignore[override]
        return f"{obj.name} · {settings.SITE_NAME}"

    def link(self, obj: Category) -> str:  # type: ignore[override]
        return obj.get_absolute_url()

    def description(self, obj: Category) -> str:  # type: ignore[override]
        return obj.description or f"{obj.name} · {settings.SITE_NAME}"

    def items(self, obj: Category) -> list[Post]:  # type: ignore[override]
        return list(selectors.post_list_for_feed(category=obj)[:FEED_LENGTH])


class CategoryAtomFeed(CategoryFeed):
    feed_type = FullContentAtom
    subtitle = CategoryFeed.description
