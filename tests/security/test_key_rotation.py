"""Rotating SECRET_KEY with SECRET_KEY_FALLBACKS keeps signed-in staff signed in."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import signing
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

OLD = "old-key-" + "o" * 60
NEW = "new-key-" + "n" * 60


def test_values_signed_with_the_old_key_verify_only_while_it_is_a_fallback() -> None:
    with override_settings(SECRET_KEY=OLD):
        value = signing.dumps({"image": 1})
    with override_settings(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[OLD]):
        assert signing.loads(value) == {"image": 1}
        # New values use the new key only.
        assert signing.dumps({"image": 1}) != value
    with override_settings(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[]):
        with pytest.raises(signing.BadSignature):
            signing.loads(value)


def test_sessions_are_carried_over_to_the_new_key_during_the_rotation(
    staff_user: Any,
) -> None:
    active, away = Client(), Client()
    with override_settings(SECRET_KEY=OLD):
        for client in (active, away):
            client.force_login(staff_user)
            assert client.get("/admin/", secure=True).status_code == 200
    with override_settings(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[OLD]):
        # Verified with the fallback, then re-signed with the new key.
        assert active.get("/admin/", secure=True).status_code == 200
    with override_settings(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[]):
        assert active.get("/admin/", secure=True).status_code == 200
        # A session not used during the rotation window is signed out.
        assert away.get("/admin/", secure=True).status_code == 302
