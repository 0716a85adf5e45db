from django.core.management.base import BaseCommand, CommandError

from media_store import storage


class Command(BaseCommand):
    help = "Create the media bucket when missing and keep it private."

    def handle(self, *args: object, **options: object) -> None:
        if not storage.is_s3():
            self.stdout.write("S3_ENDPOINT_URL is not set: media is on the local disk.")
            return
        try:
            created = storage.ensure_bucket()
        except (storage.ClientError, storage.BotoCoreError) as exc:
            raise CommandError(f"Could not reach or create the bucket: {exc}") from exc
        from django.conf import settings

        verb = "Created" if created else "Found"
        self.stdout.write(
            self.style.SUCCESS(f"{verb} private bucket {settings.S3_BUCKET}")
        )
