"""Images made with Pillow on the fly, and helpers to look inside the bucket."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags
from PIL import Image as PILImage

from media_store.usage import register_usage_finder, unregister_usage_finder


def image_bytes(
    fmt: str = "PNG",
    size: tuple[int, int] = (64, 48),
    *,
    noise: bool = False,
    **save: Any,
) -> bytes:
    """A picture in `fmt`; `noise` makes it incompressible (for truncation)."""
    if noise:
        img = PILImage.frombytes("RGB", size, _noise(size[0] * size[1] * 3))
    else:
        img = PILImage.new("RGB", size, (200, 40, 90))
        for x in range(0, size[0], 8):
            for y in range(size[1]):
                img.putpixel((x, y), (10, 120, 250))
    out = io.BytesIO()
    img.save(out, fmt, **save)
    return out.getvalue()


def _noise(n: int) -> bytes:
    # Deterministic but incompressible enough for PNG's deflate.
    import random

    rng = random.Random(42)  # noqa: S311 - test data, not security
    return bytes(rng.getrandbits(8) for _ in range(n))


def animated_bytes(fmt: str = "GIF", frames: int = 3) -> bytes:
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]
    images = [PILImage.new("RGB", (40, 30), colours[i % 4]) for i in range(frames)]
    out = io.BytesIO()
    images[0].save(
        out, fmt, save_all=True, append_images=images[1:], duration=120, loop=0
    )
    return out.getvalue()


def jpeg_with_gps(size: tuple[int, int] = (80, 40), orientation: int = 6) -> bytes:
    """A JPEG carrying GPS coordinates, a camera model and an orientation."""
    exif = PILImage.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Model] = "Secret Camera 3000"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (37.0, 33.0, 59.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (126.0, 58.0, 40.0),
    }
    return image_bytes("JPEG", size, exif=exif.tobytes(), quality=90)


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width`×`height` (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
    )


def upload(data: bytes, name: str = "upload.png", content_type: str = "image/png"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def bucket_keys(client: Any, prefix: str = "") -> set[str]:
    keys: set[str] = set()
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=settings.S3_BUCKET, Prefix=prefix):
        keys |= {obj["Key"] for obj in page.get("Contents", [])}
    return keys


def get_object(client: Any, key: str) -> dict[str, Any]:
    return client.get_object(Bucket=settings.S3_BUCKET, Key=key)


@pytest.fixture
def used_by() -> Iterator[Callable[..., None]]:
    """Mark images as used, the way the posts app's usage finder does:
    `used_by(image)` by a draft, `used_by(image, public=True)` by a published
    post (then visitors may fetch it)."""
    from blog_site.page_cache import content_version_bump
    from media_store.usage import Usage

    used: dict[Any, tuple[str, bool]] = {}

    def finder(image: Any) -> list[Usage]:
        if image.pk not in used:
            return []
        label, public = used[image.pk]
        return [Usage(label=label, url="/posts/x", public=public)]

    register_usage_finder(finder)

    def mark(image: Any, label: str = "Post “Hello”", *, public: bool = False) -> None:
        used[image.pk] = (label, public)
        # What a post write does: remembered visibility goes stale.
        content_version_bump()

    yield mark
    unregister_usage_finder(finder)
