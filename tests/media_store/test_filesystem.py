"""The embedded defaults (no S3): the same service and views on the local disk."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client, override_settings

from accounts.models import User
from media_store import services
from media_store.models import Image
from tests.media_store.conftest import image_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def local_disk(tmp_path: Path) -> Iterator[Path]:
    storages = {
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path), "base_url": "/media/"},
        },
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }
    with override_settings(S3_ENDPOINT_URL="", STORAGES=storages):
        yield tmp_path


def test_upload_renditions_and_redirect_work_on_the_local_disk(
    local_disk: Path, client: Client, used_by: Any
) -> None:
    image = services.image_create(file=image_bytes("JPEG", (1000, 400)))
    used_by(image, public=True)

    assert (local_disk / "images" / str(image.pk) / "original").is_file()
    assert (local_disk / "images" / str(image.pk) / "w480.webp").is_file()
    response = client.get(f"/images/{image.pk}?w=480")
    assert response.status_code == 302
    assert response["Location"] == f"/media/images/{image.pk}/w480.jpg"


def test_delete_removes_the_files_after_commit(
    local_disk: Path, django_capture_on_commit_callbacks: Any
) -> None:
    image = services.image_create(file=image_bytes("PNG", (600, 300)))
    folder = local_disk / "images" / str(image.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.image_delete(image=image)
    assert not any(folder.iterdir())
    assert not Image.objects.exists()


def test_direct_upload_is_unavailable_and_says_so(local_disk: Path) -> None:
    user = User.objects.create_user(username="u", email="u@example.com")
    with pytest.raises(ValidationError, match="need S3"):
        services.image_direct_upload_begin(uploader=user, content_type="image/png")


def test_reconcile_lists_orphans_on_the_local_disk(local_disk: Path) -> None:
    kept = services.image_create(file=image_bytes("PNG", (20, 20)))
    orphan = local_disk / "images" / "0f0e0d0c-0000-4000-8000-000000000000" / "original"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"lost")

    names = services.orphan_objects(older_than=timedelta(0))

    assert names == ["images/0f0e0d0c-0000-4000-8000-000000000000/original"]
    assert kept.file.name not in names
