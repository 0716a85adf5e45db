from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from tqdm import tqdm

from posts.models import Post
from posts.services import post_rerender


class Command(BaseCommand):
    help = (
        "Render every post's stored HTML, outline and search tokens again "
        "(after changing the Markdown pipeline or the search tokeniser)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        posts = Post.objects.select_related("category").order_by("pk")
        count = 0
        for post in tqdm(
            posts.iterator(), total=posts.count(), disable=None, file=self.stderr
        ):
            post_rerender(post=post)
            count += 1
        self.stdout.write(self.style.SUCCESS(f"Re-rendered {count} posts."))
