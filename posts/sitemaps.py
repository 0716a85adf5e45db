from __future__ import annotations

import datetime as dt

from django.contrib.sitemaps import Sitemap
from django.db.models import QuerySet

from posts import selectors
from posts.models import Category, Post


class PostSitemap(Sitemap):
    changefreq = "monthly"
    priority = 0.8

    def items(self) -> QuerySet[Post]:
        return selectors.post_list_published()

    def lastmod(self, item: Post) -> dt.datetime:
        return item.updated_at


class CategorySitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.5

    def items(self) -> QuerySet[Category]:
        return selectors.category_list_with_counts()


SITEMAPS = {"posts": PostSitemap, "categories": CategorySitemap}
