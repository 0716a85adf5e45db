"""Create the reference content: an index page and N blog pages in one category.

The measured page carries the head and body of the bdg-blog post page that
the run captured, so both sides send the same content.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from wagtail.models import Page, Site
from wagtail_site.blog.models import BlogCategory, BlogIndexPage, BlogPage

HEAD_RE = re.compile(r"<head[^>]*>(.*?)</head>", re.S | re.I)
BODY_RE = re.compile(r"<body[^>]*>(.*?)</body>", re.S | re.I)
TITLE_RE = re.compile(r"<title[^>]*>.*?</title>", re.S | re.I)


class Command(BaseCommand):
    help = "Load the benchmark's reference pages; prints the measured page's URL."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--page", type=Path, required=True)
        parser.add_argument("--title", default="온프레미스 블로그 서비스 bdg.blog")
        parser.add_argument("--posts", type=int, default=50)

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        html = options["page"].read_text(encoding="utf-8")
        head = HEAD_RE.search(html)
        body = BODY_RE.search(html)
        head_html = TITLE_RE.sub("", head.group(1)) if head else ""
        body_html = body.group(1) if body else html

        root = Page.get_first_root_node()
        index = BlogIndexPage(title="bdg.blog", slug="blog")
        root.add_child(instance=index)
        site = Site.objects.get(is_default_site=True)
        old_home = site.root_page
        site.root_page = index
        site.save()
        if old_home.pk != index.pk and old_home.depth > 1:
            old_home.delete()

        category = BlogCategory.objects.create(name="쿠버네티스", slug="쿠버네티스")
        start = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
        measured = None
        for n in range(options["posts"]):
            is_measured = n == options["posts"] // 2
            page = BlogPage(
                title=options["title"] if is_measured else f"Reference post {n:04d}",
                slug="post" if is_measured else f"reference-{n:04d}",
                head_html=head_html if is_measured else "",
                body_html=body_html if is_measured else f"<p>Reference post {n}.</p>",
                published_at=start + dt.timedelta(days=n),
                category=category,
            )
            index.add_child(instance=page)
            page.save_revision().publish()
            if is_measured:
                measured = page
        self.stdout.write(measured.get_url(request=None) if measured else "/")
