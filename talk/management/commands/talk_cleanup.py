from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from talk.services import chat_messages_purge


class Command(BaseCommand):
    help = "Delete chat messages older than the retention period, and expired blocks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="Retention in days (default: the TALK_RETENTION_DAYS setting).",
        )

    def handle(self, *args: object, days: int | None, **options: object) -> None:
        days = settings.TALK_RETENTION_DAYS if days is None else days
        if days < 0:
            raise CommandError("--days must be 0 or more.")
        deleted = chat_messages_purge(older_than=timezone.now() - timedelta(days=days))
        self.stdout.write(f"Deleted {deleted} messages older than {days} days.")
