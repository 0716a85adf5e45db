from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from posts.transfer import posts_import


class Command(BaseCommand):
    help = (
        "Import Markdown posts with YAML front matter (the source blog's format). "
        "Running it again updates the same posts; a bad file is reported and skipped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path, help="Files or folders")
        parser.add_argument(
            "--images", type=Path, help="Folder of image files named by their UUID"
        )
        parser.add_argument(
            "--author",
            help="Username for posts without an `author` (default: first superuser)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        users = get_user_model().objects
        if options["author"]:
            author = users.filter(username=options["author"]).first()
            if author is None:
                raise CommandError(f"No user named {options['author']!r}.")
        else:
            author = users.filter(is_superuser=True).order_by("pk").first()
            if author is None:
                raise CommandError("No superuser to own the posts; pass --author.")
        images = options["images"]
        if images is not None and not images.is_dir():
            raise CommandError(f"--images {images}: not a folder.")
        for path in options["paths"]:
            if not path.exists():
                raise CommandError(f"{path}: no such file or folder.")

        def progress(items: list[Any]) -> Any:
            return tqdm(
                items, desc="import", unit="post", disable=None, file=self.stderr
            )

        report = posts_import(
            options["paths"], author=author, images_dir=images, progress=progress
        )
        for path, message in report.warnings:
            self.stderr.write(self.style.WARNING(f"{path}: {message}"))
        for path, message in report.failed:
            self.stderr.write(self.style.ERROR(f"{path}: {message}"))
        summary = (
            f"Imported {len(report.created) + len(report.updated)} posts "
            f"({len(report.created)} new, {len(report.updated)} updated), "
            f"{len(report.failed)} failed."
        )
        if not report.ok:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))
