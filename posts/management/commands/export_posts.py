from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from posts.transfer import posts_export


class Command(BaseCommand):
    help = (
        "Export every post as Markdown with YAML front matter (import_posts reads it)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path)
        parser.add_argument(
            "--images",
            type=Path,
            help="Also write the posts' images here, named by UUID",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        def progress(items: list[Any]) -> Any:
            return tqdm(
                items, desc="export", unit="post", disable=None, file=self.stderr
            )

        posts, images = posts_export(
            options["directory"], images_dir=options["images"], progress=progress
        )
        self.stdout.write(
            self.style.SUCCESS(f"Exported {posts} posts and {images} images.")
        )
