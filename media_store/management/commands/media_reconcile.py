from django.core.management.base import CommandParser

from media_store import services
from media_store.management.maintenance import StorageMaintenanceCommand


class Command(StorageMaintenanceCommand):
    help = (
        "List stored objects under images/ that have no Image row (left by a "
        "crash or a rolled-back transaction); --delete removes them."
    )
    older_than_help = (
        "skip younger objects, which may belong to an upload in flight "
        "(default: MEDIA_UNCONFIRMED_GRACE_SECONDS)"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--delete", action="store_true", help="delete them")

    def handle(self, *args: object, **options: object) -> None:
        older_than = self.grace(options)
        find = (
            services.orphan_objects_delete
            if options["delete"]
            else services.orphan_objects
        )
        names = self.on_storage(lambda: find(older_than=older_than))
        verb = "Deleted" if options["delete"] else "Orphan"
        self.report(verb, names, f"{verb}: {len(names)} object(s) without an image.")
