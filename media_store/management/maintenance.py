"""What the bucket maintenance commands share: the grace period and reporting."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from media_store import services


class StorageMaintenanceCommand(BaseCommand):
    """A command that walks the bucket for objects older than a grace period."""

    older_than_help = (
        "grace period in seconds (default: MEDIA_UNCONFIRMED_GRACE_SECONDS)"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=int,
            default=None,
            metavar="SECONDS",
            help=self.older_than_help,
        )

    def grace(self, options: dict[str, object]) -> timedelta:
        seconds = options["older_than"]
        if seconds is None:
            seconds = settings.MEDIA_UNCONFIRMED_GRACE_SECONDS
        return timedelta(seconds=int(seconds))  # type: ignore[arg-type]

    def on_storage(self, action: Callable[[], list[str]]) -> list[str]:
        """Run `action`; an unreachable bucket is a command error, not a traceback."""
        try:
            return action()
        except services.STORAGE_ERRORS as exc:
            raise CommandError(f"Could not reach the storage: {exc}") from exc

    def report(self, verb: str, names: list[str], summary: str) -> None:
        for name in names:
            self.stdout.write(f"{verb} {name}")
        self.stdout.write(self.style.SUCCESS(summary))
