from django.core.management.base import CommandParser

from media_store import services
from media_store.management.maintenance import StorageMaintenanceCommand


class Command(StorageMaintenanceCommand):
    help = (
        "Delete direct browser uploads that were never confirmed within the "
        "grace period (MEDIA_UNCONFIRMED_GRACE_SECONDS). Run it hourly or daily."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--dry-run", action="store_true", help="only list them")

    def handle(self, *args: object, **options: object) -> None:
        dry_run = bool(options["dry_run"])
        names = self.on_storage(
            lambda: services.unconfirmed_uploads_delete(
                older_than=self.grace(options), dry_run=dry_run
            )
        )
        verb = "Would delete" if dry_run else "Deleted"
        self.report(verb, names, f"{verb} {len(names)} unconfirmed upload(s).")
