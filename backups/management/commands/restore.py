from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backups import services


class Command(BaseCommand):
    help = (
        "Restore a backup from SRC_DIR into the configured (empty) database and "
        "bucket, then compare them with the backup's manifest."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("src", type=Path, metavar="SRC_DIR")
        parser.add_argument(
            "--force",
            action="store_true",
            help="restore even into a database or bucket that is not empty",
        )

    def handle(self, *args: Any, src: Path, force: bool, **options: Any) -> None:
        try:
            report = services.backup_restore(src=src, force=force)
        except (services.BackupError, OSError) as exc:
            raise CommandError(f"restore failed: {exc}") from exc
        for difference in report.differences:
            self.stderr.write(difference)
        self.stdout.write(
            f"restored {report.tables} tables, {report.rows} rows, "
            f"{report.objects} objects in {report.seconds} s; "
            f"differences: {len(report.differences)}"
        )
        if report.differences:
            raise CommandError("the restored site differs from the backup")
        # Redis holds state derived from the old database (cached pages, chat
        # room heads); kept, it would serve stale pages and hide new messages.
        self.stdout.write(
            "Before starting the site: flush its Redis database (FLUSHDB), "
            "then run `manage.py migrate` if the code is newer than the backup."
        )
