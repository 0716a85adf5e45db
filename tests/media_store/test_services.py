"""image_create / image_delete against the real S3 server and MariaDB."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import override_settings
from PIL import ExifTags
from PIL import Image as PILImage

from accounts.models import User
from media_store import services
from media_store.models import Image
from tests.media_store.conftest import (
    animated_bytes,
    bucket_keys,
    get_object,
    image_bytes,
    jpeg_with_gps,
    png_declaring,
    upload,
)
from tests.services import new_s3_server

pytestmark = pytest.mark.django_db


def stored_pil(s3_client: Any, image: Image) -> PILImage.Image:
    body = get_object(s3_client, image.file.name)["Body"].read()
    return PILImage.open(io.BytesIO(body))


def test_upload_stores_the_object_with_its_content_type_and_the_row_its_size(
    s3_client: Any,
) -> None:
    user = User.objects.create_user(username="ann", email="ann@example.com")
    image = services.image_create(
        file=upload(image_bytes("PNG", (64, 48))), alt=" A chart ", uploader=user
    )

    image.refresh_from_db()
    assert (image.width, image.height, image.format) == (64, 48, "PNG")
    assert image.alt == "A chart"
    assert image.uploader == user
    assert image.file.name == f"images/{image.pk}/original"
    obj = get_object(s3_client, image.file.name)
    assert obj["ContentType"] == "image/png"
    body = obj["Body"].read()
    assert len(body) == image.size
    assert PILImage.open(io.BytesIO(body)).size == (64, 48)


def test_jpeg_is_stored_as_image_jpeg(s3_client: Any) -> None:
    image = services.image_create(file=image_bytes("JPEG", (30, 20)))
    assert image.format == "JPEG"
    assert get_object(s3_client, image.file.name)["ContentType"] == "image/jpeg"


def test_same_bytes_again_return_the_existing_image(s3_client: Any) -> None:
    data = image_bytes("PNG", (33, 22))
    first = services.image_create(file=upload(data))
    keys = bucket_keys(s3_client, "images/")

    again = services.image_create(file=upload(data, name="renamed.png"), alt="x")

    assert again.pk == first.pk
    assert Image.objects.count() == 1
    assert bucket_keys(s3_client, "images/") == keys  # nothing stored twice


def truncated_png() -> bytes:
    data = image_bytes("PNG", (200, 200), noise=True)
    return data[: len(data) // 2]


SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" '
    b'height="10"><script>alert(document.cookie)</script></svg>'
)


@pytest.mark.parametrize(
    ("data", "name", "content_type", "message"),
    [
        (truncated_png(), "cut.png", "image/png", "damaged"),
        (SVG, "evil.svg", "image/svg+xml", "not a JPEG, PNG, GIF or WebP"),
        (SVG, "evil.png", "image/png", "not a JPEG, PNG, GIF or WebP"),
        (png_declaring(100_000, 100_000), "bomb.png", "image/png", "pixels"),
        (b"just some text\n" * 20, "notes.jpg", "image/jpeg", "not a JPEG"),
        (b"", "empty.png", "image/png", "empty"),
        (image_bytes("BMP", (8, 8)), "old.bmp", "image/bmp", "not a JPEG"),
        (image_bytes("TIFF", (8, 8)), "scan.jpg", "image/jpeg", "not a JPEG"),
    ],
    ids=[
        "truncated-png",
        "svg",
        "svg-named-png",
        "bomb",
        "text-as-jpg",
        "empty",
        "bmp",
        "tiff-as-jpg",
    ],
)
def test_bad_upload_gets_a_clear_error_and_leaves_no_row_and_no_object(
    s3_client: Any, data: bytes, name: str, content_type: str, message: str
) -> None:
    before = bucket_keys(s3_client, "images/")

    with pytest.raises(ValidationError) as excinfo:
        services.image_create(file=upload(data, name, content_type))

    assert message in " ".join(excinfo.value.messages)
    assert not Image.objects.exists()
    assert bucket_keys(s3_client, "images/") == before


@override_settings(MEDIA_MAX_UPLOAD_BYTES=1000)
def test_file_over_the_size_cap_is_refused_before_decoding(s3_client: Any) -> None:
    before = bucket_keys(s3_client, "images/")
    with pytest.raises(ValidationError, match="larger than"):
        services.image_create(file=upload(image_bytes("PNG", (300, 300), noise=True)))
    assert not Image.objects.exists()
    assert bucket_keys(s3_client, "images/") == before


@override_settings(MEDIA_MAX_PIXELS=100 * 100)
def test_pixel_cap_is_a_setting() -> None:
    with pytest.raises(ValidationError, match="pixels"):
        services.image_create(file=image_bytes("PNG", (101, 100)))
    assert services.image_create(file=image_bytes("PNG", (100, 100))).width == 100


def test_jpeg_with_gps_exif_is_stored_without_it_and_upright(s3_client: Any) -> None:
    data = jpeg_with_gps(size=(80, 40), orientation=6)
    source = PILImage.open(io.BytesIO(data))
    assert source.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the fixture has GPS

    image = services.image_create(file=upload(data, "photo.jpg", "image/jpeg"))

    body = get_object(s3_client, image.file.name)["Body"].read()
    stored = PILImage.open(io.BytesIO(body))
    assert not stored.getexif()
    assert b"Exif\x00\x00" not in body
    assert b"Secret Camera" not in body
    # Orientation 6 means "rotate 90° clockwise to display": 80×40 becomes 40×80.
    assert stored.size == (40, 80)
    assert (image.width, image.height) == (40, 80)


def test_png_text_chunks_are_dropped(s3_client: Any) -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Secret")
    image = services.image_create(file=image_bytes("PNG", (20, 20), pnginfo=info))
    body = get_object(s3_client, image.file.name)["Body"].read()
    assert b"Jane Secret" not in body


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_animations_keep_their_frames(s3_client: Any, fmt: str) -> None:
    image = services.image_create(file=animated_bytes(fmt, frames=3))
    stored = stored_pil(s3_client, image)
    assert image.format == fmt
    assert getattr(stored, "n_frames", 1) == 3
    assert image.renditions == []


def test_wide_image_gets_webp_and_original_format_renditions(s3_client: Any) -> None:
    image = services.image_create(file=image_bytes("JPEG", (1700, 850)))

    assert image.renditions == [480, 960, 1600]
    keys = bucket_keys(s3_client, f"images/{image.pk}/")
    assert keys == {
        f"images/{image.pk}/original",
        *(
            f"images/{image.pk}/w{w}.{ext}"
            for w in (480, 960, 1600)
            for ext in ("webp", "jpg")
        ),
    }
    obj = get_object(s3_client, f"images/{image.pk}/w480.webp")
    assert obj["ContentType"] == "image/webp"
    assert PILImage.open(io.BytesIO(obj["Body"].read())).size == (480, 240)
    assert get_object(s3_client, f"images/{image.pk}/w960.jpg")["ContentType"] == (
        "image/jpeg"
    )


def test_staging_stores_the_objects_without_a_query_and_saving_adds_the_row(
    s3_client: Any, django_assert_num_queries: Any
) -> None:
    uploader = User.objects.create_user(username="stager", password="x" * 12)
    with django_assert_num_queries(0):
        staged = services.image_stage(file=image_bytes("PNG", (1000, 500)))
    assert not Image.objects.exists()
    assert bucket_keys(s3_client, f"images/{staged.image.pk}/") == set(staged.stored)
    assert len(staged.stored) == 5  # the original, two widths in two formats

    image = services.image_staged_save(staged=staged, uploader=uploader)

    stored = Image.objects.get()
    assert stored.pk == image.pk and stored.uploader == uploader
    assert stored.renditions == [480, 960]
    assert stored.file.name == staged.stored[0]


def test_a_staged_image_whose_bytes_are_known_becomes_that_image(
    s3_client: Any,
) -> None:
    data = image_bytes("PNG", (700, 300))
    first = services.image_create(file=data)
    staged = services.image_stage(file=data)
    assert staged.image.pk != first.pk

    assert services.image_staged_save(staged=staged).pk == first.pk
    assert Image.objects.count() == 1
    assert bucket_keys(s3_client, f"images/{staged.image.pk}/") == set()


def test_a_discarded_staged_image_leaves_no_object(s3_client: Any) -> None:
    staged = services.image_stage(file=image_bytes("JPEG", (900, 300)))
    services.image_staged_discard(staged=staged)
    assert bucket_keys(s3_client, f"images/{staged.image.pk}/") == set()
    assert not Image.objects.exists()


def test_a_bad_file_fails_staging_with_the_upload_error_and_no_object(
    s3_client: Any,
) -> None:
    before = bucket_keys(s3_client, "images/")
    with pytest.raises(ValidationError, match="damaged"):
        services.image_stage(file=truncated_png())
    assert bucket_keys(s3_client, "images/") == before


def test_small_image_has_no_renditions(s3_client: Any) -> None:
    image = services.image_create(file=image_bytes("PNG", (480, 100)))
    assert image.renditions == []
    assert bucket_keys(s3_client, f"images/{image.pk}/") == {image.file.name}


def test_upload_with_the_s3_server_stopped_fails_cleanly_with_no_row() -> None:
    server = new_s3_server()
    server.start()
    try:
        options = {**settings.STORAGES["default"]["OPTIONS"]}
        options["endpoint_url"] = server.endpoint
        storages = {
            **settings.STORAGES,
            "default": {**settings.STORAGES["default"], "OPTIONS": options},
        }
        with override_settings(STORAGES=storages, S3_ENDPOINT_URL=server.endpoint):
            from media_store.storage import ensure_bucket

            ensure_bucket()
            ok = services.image_create(file=image_bytes("PNG", (10, 10)))
            assert ok.pk  # the server works while it runs
            server.stop()

            with pytest.raises(ValidationError) as excinfo:
                services.image_create(file=image_bytes("PNG", (11, 11)))
    finally:
        server.stop()
    assert excinfo.value.code == "storage_unavailable"
    assert "storage is unavailable" in excinfo.value.messages[0]
    assert list(Image.objects.values_list("pk", flat=True)) == [ok.pk]


def test_unused_image_is_deleted_with_its_objects_after_commit(
    s3_client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    image = services.image_create(file=image_bytes("PNG", (1000, 500)))
    prefix = f"images/{image.pk}/"
    assert len(bucket_keys(s3_client, prefix)) == 5

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.image_delete(image=image)
    assert not Image.objects.filter(pk=image.pk).exists()
    assert len(bucket_keys(s3_client, prefix)) == 5  # not before the commit

    for callback in callbacks:
        callback()
    assert bucket_keys(s3_client, prefix) == set()


def test_image_used_by_a_post_cannot_be_deleted(s3_client: Any, used_by: Any) -> None:
    image = services.image_create(file=image_bytes("PNG", (12, 12)))
    used_by(image, "Post “Hello”")

    with pytest.raises(ValidationError, match="Post “Hello”"):
        services.image_delete(image=image)

    assert Image.objects.filter(pk=image.pk).exists()
    assert image.file.name in bucket_keys(s3_client, f"images/{image.pk}/")


def test_alt_text_over_300_characters_is_refused_before_storing(s3_client: Any) -> None:
    before = bucket_keys(s3_client, "images/")
    with pytest.raises(ValidationError) as excinfo:
        services.image_create(file=image_bytes("PNG", (13, 13)), alt="x" * 301)
    assert "alt" in excinfo.value.message_dict
    assert not Image.objects.exists()
    assert bucket_keys(s3_client, "images/") == before
