"""Direct browser-to-bucket uploads against the real S3 server, with httpx."""

from __future__ import annotations

import io
import uuid
from typing import Any

import httpx
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import override_settings
from PIL import Image as PILImage

from accounts.models import User
from media_store import services
from media_store.models import Image
from tests.media_store.conftest import (
    bucket_keys,
    get_object,
    image_bytes,
    jpeg_with_gps,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def author() -> User:
    return User.objects.create_user(username="writer", email="writer@example.com")


def post_to_bucket(
    upload: services.DirectUpload, data: bytes, content_type: str
) -> httpx.Response:
    """What the browser does: a multipart form POST straight to the bucket."""
    return httpx.post(
        upload.url,
        data=upload.fields,
        files={"file": ("photo", data, content_type)},
    )


def test_direct_upload_end_to_end(author: User, s3_client: Any) -> None:
    upload = services.image_direct_upload_begin(
        uploader=author, content_type="image/jpeg"
    )
    assert upload.key.startswith("uploads/")
    assert upload.fields["Content-Type"] == "image/jpeg"

    response = post_to_bucket(
        upload, jpeg_with_gps((90, 60), orientation=1), "image/jpeg"
    )
    assert response.status_code in {200, 201, 204}, response.text
    assert upload.key in bucket_keys(s3_client, "uploads/")

    image = services.image_direct_upload_confirm(
        token=upload.token, uploader=author, alt="From the browser"
    )

    assert str(image.pk) == upload.key.removeprefix("uploads/")
    assert (image.width, image.height, image.format) == (90, 60, "JPEG")
    assert image.uploader == author
    assert image.alt == "From the browser"
    assert upload.key not in bucket_keys(s3_client, "uploads/")
    stored = get_object(s3_client, f"images/{image.pk}/original")
    assert stored["ContentType"] == "image/jpeg"
    body = stored["Body"].read()
    assert b"Secret Camera" not in body  # normalised like any other upload
    assert PILImage.open(io.BytesIO(body)).size == (90, 60)


def test_bucket_refuses_a_post_with_another_content_type(author: User) -> None:
    upload = services.image_direct_upload_begin(
        uploader=author, content_type="image/png"
    )
    fields = {**upload.fields, "Content-Type": "text/html"}
    response = httpx.post(
        upload.url, data=fields, files={"file": ("x", b"<script>", "text/html")}
    )
    assert response.status_code == 403


@override_settings(MEDIA_MAX_UPLOAD_BYTES=2000)
def test_bucket_refuses_a_post_over_the_size_range(
    author: User, s3_client: Any
) -> None:
    upload = services.image_direct_upload_begin(
        uploader=author, content_type="image/png"
    )
    response = post_to_bucket(
        upload, image_bytes("PNG", (200, 200), noise=True), "image/png"
    )
    assert response.status_code in {400, 403}
    assert upload.key not in bucket_keys(s3_client, "uploads/")


def test_confirming_a_file_that_is_not_an_image_fails_and_removes_it(
    author: User, s3_client: Any
) -> None:
    upload = services.image_direct_upload_begin(
        uploader=author, content_type="image/png"
    )
    post_to_bucket(upload, b"<svg><script>alert(1)</script></svg>", "image/png")
    assert upload.key in bucket_keys(s3_client, "uploads/")
    before = bucket_keys(s3_client, "images/")

    with pytest.raises(ValidationError, match="not a JPEG, PNG, GIF or WebP"):
        services.image_direct_upload_confirm(token=upload.token, uploader=author)

    assert not Image.objects.exists()
    assert upload.key not in bucket_keys(s3_client, "uploads/")
    assert bucket_keys(s3_client, "images/") == before


def test_confirm_without_an_upload_says_so(author: User) -> None:
    upload = services.image_direct_upload_begin(
        uploader=author, content_type="image/png"
    )
    with pytest.raises(ValidationError, match="did not reach the storage"):
        services.image_direct_upload_confirm(token=upload.token, uploader=author)


def test_another_user_cannot_confirm_the_upload(author: User) -> None:
    other = User.objects.create_user(username="other", email="other@example.com")
    upload = services.image_direct_upload_begin(
        uploader=author, content_type="image/png"
    )
    post_to_bucket(upload, image_bytes("PNG", (10, 10)), "image/png")

    with pytest.raises(ValidationError, match="unknown or has expired"):
        services.image_direct_upload_confirm(token=upload.token, uploader=other)
    with pytest.raises(ValidationError, match="unknown or has expired"):
        services.image_direct_upload_confirm(token=upload.token + "x", uploader=author)
    assert not Image.objects.exists()


@pytest.mark.parametrize("content_type", ["image/svg+xml", "text/plain", "image/bmp"])
def test_begin_refuses_non_image_types(author: User, content_type: str) -> None:
    with pytest.raises(ValidationError, match="Only JPEG, PNG, GIF and WebP"):
        services.image_direct_upload_begin(uploader=author, content_type=content_type)


def test_cleanup_removes_only_uploads_past_the_grace_period(s3_client: Any) -> None:
    from django.conf import settings

    key = f"uploads/{uuid.uuid4()}"
    s3_client.put_object(Bucket=settings.S3_BUCKET, Key=key, Body=b"abandoned")

    call_command("media_cleanup_uploads", stdout=io.StringIO())
    assert key in bucket_keys(s3_client, "uploads/")  # still within a day

    out = io.StringIO()
    call_command("media_cleanup_uploads", "--older-than=0", stdout=out)
    assert key not in bucket_keys(s3_client, "uploads/")
    assert f"Deleted {key}" in out.getvalue()


def test_reconcile_finds_and_deletes_objects_without_a_row(s3_client: Any) -> None:
    from django.conf import settings

    kept = services.image_create(file=image_bytes("PNG", (15, 15)))
    orphan = f"images/{uuid.uuid4()}/original"
    s3_client.put_object(Bucket=settings.S3_BUCKET, Key=orphan, Body=b"lost")

    out = io.StringIO()
    call_command("media_reconcile", "--older-than=0", stdout=out)
    assert f"Orphan {orphan}" in out.getvalue()
    assert kept.file.name not in out.getvalue()
    assert orphan in bucket_keys(s3_client, "images/")  # listing deletes nothing

    call_command("media_reconcile", "--older-than=0", "--delete", stdout=io.StringIO())
    keys = bucket_keys(s3_client, "images/")
    assert orphan not in keys
    assert kept.file.name in keys
