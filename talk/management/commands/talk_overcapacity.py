from django.core.management.base import BaseCommand, CommandError, CommandParser

from talk.selectors import over_capacity_list


class Command(BaseCommand):
    help = (
        "Connections closed as too slow (close 4408, over capacity) per room and "
        "day: a client that stopped reading or acknowledging while others chatted."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days", type=int, default=7, help="Days back (default 7)."
        )

    def handle(self, *args: object, days: int, **options: object) -> None:
        if not 1 <= days <= 35:
            raise CommandError("--days must be between 1 and 35.")
        rows = over_capacity_list(days=days)
        for day, room, count in rows:
            self.stdout.write(f"{day}\t{room}\t{count}")
        total = sum(count for _, _, count in rows)
        self.stdout.write(f"Over-capacity closes in the last {days} days: {total}")
