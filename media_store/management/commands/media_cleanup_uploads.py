from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from media_store import services


class Command(BaseCommand):
    help = (
        "Delete direct browser uploads that were never confirmed within the "
        "grace period (MEDIA_UNCONFIRMED_GRACE_SECONDS). Run it hourly or daily."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=int,
            default=None,
            metavar="SECONDS",
            help="grace period in seconds (default: MEDIA_UNCONFIRMED_GRACE_SECONDS)",
        )
        parser.add_argument("--dry-run", action="store_true", help="only list them")

    def handle(self, *args: object, **options: object) -> None:
        seconds = options["older_than"]
        if seconds is None:
            seconds = settings.MEDIA_UNCONFIRMED_GRACE_SECONDS
        try:
            names = services.unconfirmed_uploads_delete(
                older_than=timedelta(seconds=int(seconds)),  # type: ignore[arg-type]
                dry_run=bool(options["dry_run"]),
            )
        except services.STORAGE_ERRORS as exc:
            raise CommandError(f"Could not reach the storage: {exc}") from exc
        verb = "Would delete" if options["dry_run"] else "Deleted"
        for name in names:
            self.stdout.write(f"{verb} {name}")
        self.stdout.write(
            self.style.SUCCESS(f"{verb} {len(names)} unconfirmed upload(s).")
        )
