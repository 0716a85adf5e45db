from __future__ import annotations

from typing import Any

import pytest
from django.test import Client


@pytest.fixture
def staff_user(db: None) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser(
        username="crawler-admin",
        email="crawler-admin@example.org",
        password="crawl-pass-0123456789",
        display_name="Crawler",
    )


@pytest.fixture
def staff_client(staff_user: Any) -> Client:
    client = Client()
    client.force_login(staff_user)
    return client
