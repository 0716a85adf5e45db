"""Demo content for the run command: an admin login, posts, categories, images."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Create the demo admin (password kept in var/admin-password.txt) and a few "
        "demo posts with categories and images; running it again changes nothing."
    )

    def handle(self, *args: object, **options: object) -> None:
        user_model = get_user_model()
        password_file = settings.VAR_DIR / "admin-password.txt"
        admin = user_model.objects.filter(username="admin").first()
        if admin is None or not password_file.exists():
            password = secrets.token_urlsafe(12)
            if admin is None:
                admin = user_model.objects.create_superuser(
                    username="admin",
                    email="admin@example.org",
                    password=password,
                    display_name="관리자",
                )
            else:
                admin.set_password(password)
                admin.save(update_fields=["password"])
            password_file.parent.mkdir(parents=True, exist_ok=True)
            password_file.write_text(password + "\n")
            password_file.chmod(0o600)
        password = password_file.read_text().strip()
        from posts.demo import load_demo_content

        created = load_demo_content(admin=admin)
        self.stdout.write(f"Demo content: {created} new posts.")
        self.stdout.write(
            self.style.SUCCESS(f"Admin login: admin / {password}  (/admin/)")
        )
