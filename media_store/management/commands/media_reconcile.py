from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from media_store import services


class Command(BaseCommand):
    help = (
        "List stored objects under images/ that have no Image row (left by a "
        "crash or a rolled-back transaction); --delete removes them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=int,
            default=None,
            metavar="SECONDS",
            help="skip younger objects, which may belong to an upload in flight "
            "(default: MEDIA_UNCONFIRMED_GRACE_SECONDS)",
        )
        parser.add_argument("--delete", action="store_true", help="delete them")

    def handle(self, *args: object, **options: object) -> None:
        seconds = options["older_than"]
        if seconds is None:
            seconds = settings.MEDIA_UNCONFIRMED_GRACE_SECONDS
        older_than = timedelta(seconds=int(seconds))  # type: ignore[arg-type]
        try:
            if options["delete"]:
                names = services.orphan_objects_delete(older_than=older_than)
            else:
                names = services.orphan_objects(older_than=older_than)
        except services.STORAGE_ERRORS as exc:
            raise CommandError(f"Could not reach the storage: {exc}") from exc
        verb = "Deleted" if options["delete"] else "Orphan"
        for name in names:
            self.stdout.write(f"{verb} {name}")
        self.stdout.write(
            self.style.SUCCESS(f"{verb}: {len(names)} object(s) without an image.")
        )
