from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backups import services


class Command(BaseCommand):
    help = (
        "Back up the database (a consistent mariadb-dump) and the media bucket "
        "into DEST_DIR, with a manifest to verify a restore against."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dest", type=Path, metavar="DEST_DIR")

    def handle(self, *args: Any, dest: Path, **options: Any) -> None:
        try:
            manifest = services.backup_create(dest=dest)
        except (services.BackupError, OSError) as exc:
            raise CommandError(f"backup failed: {exc}") from exc
        database, media = manifest["database"], manifest["media"]
        rows = sum(table["rows"] for table in database["tables"].values())
        self.stdout.write(
            f"backup in {dest}: {len(database['tables'])} tables, {rows} rows, "
            f"{len(media['objects'])} objects ({media['bytes']} bytes) "
            f"in {manifest['seconds']} s; commits held "
            f"{database['commits_held_ms']} ms"
        )
        if media["missing"]:
            raise CommandError(
                "objects of stored images missing from the bucket: "
                + ", ".join(media["missing"][:20])
            )
