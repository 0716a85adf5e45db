"""processing.prepare: the modes and formats real uploads come in."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from PIL import Image as PILImage

from media_store import processing
from tests.media_store.conftest import animated_bytes


def encode(img: PILImage.Image, fmt: str, **save: object) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **save)
    return out.getvalue()


def palette_with_transparency() -> PILImage.Image:
    img = PILImage.new("P", (20, 10), 0)
    img.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    img.paste(1, (10, 0, 20, 10))
    img.info["transparency"] = 0
    return img


CASES = [
    ("rgba-png", PILImage.new("RGBA", (20, 10), (1, 2, 3, 100)), "PNG", {}),
    ("palette-png", palette_with_transparency(), "PNG", {"transparency": 0}),
    ("grey-jpeg", PILImage.new("L", (20, 10), 128), "JPEG", {}),
    ("cmyk-jpeg", PILImage.new("CMYK", (20, 10), (0, 50, 50, 0)), "JPEG", {}),
    ("16bit-png", PILImage.new("I;16", (20, 10), 30000), "PNG", {}),
    ("la-png", PILImage.new("LA", (20, 10), (10, 200)), "PNG", {}),
    (
        "progressive",
        PILImage.new("RGB", (20, 10), "red"),
        "JPEG",
        {"progressive": True},
    ),
    ("gif-transparent", palette_with_transparency(), "GIF", {"transparency": 0}),
    ("webp-alpha", PILImage.new("RGBA", (20, 10), (9, 9, 9, 9)), "WEBP", {}),
    (
        "webp-lossless",
        PILImage.new("RGB", (20, 10), "blue"),
        "WEBP",
        {"lossless": True},
    ),
]


@pytest.mark.parametrize(
    ("img", "fmt", "save"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_common_modes_are_accepted_and_keep_format_and_size(
    img: PILImage.Image, fmt: str, save: dict[str, object]
) -> None:
    prepared = processing.prepare(encode(img, fmt, **save))

    assert prepared.format == fmt
    assert (prepared.width, prepared.height) == (20, 10)
    assert prepared.content_type == processing.CONTENT_TYPES[fmt]
    out = PILImage.open(io.BytesIO(prepared.content))
    assert out.format == fmt
    out.load()


def test_palette_png_keeps_its_transparency() -> None:
    prepared = processing.prepare(
        encode(palette_with_transparency(), "PNG", transparency=0)
    )
    out = PILImage.open(io.BytesIO(prepared.content)).convert("RGBA")
    assert out.getpixel((0, 0))[3] == 0
    assert out.getpixel((15, 5))[3] == 255


def test_animated_png_keeps_its_frames() -> None:
    frames = [PILImage.new("RGB", (20, 10), c) for c in ("red", "green", "blue")]
    data = encode(
        frames[0], "PNG", save_all=True, append_images=frames[1:], duration=100
    )

    prepared = processing.prepare(data)

    assert prepared.frames == 3
    assert PILImage.open(io.BytesIO(prepared.content)).n_frames == 3


def test_gif_animation_keeps_its_timing() -> None:
    prepared = processing.prepare(animated_bytes("GIF", frames=4))
    out = PILImage.open(io.BytesIO(prepared.content))
    assert out.n_frames == 4
    assert out.info.get("duration") == 120
    assert out.info.get("loop") == 0


def test_sha256_is_of_the_uploaded_bytes() -> None:
    import hashlib

    data = encode(PILImage.new("RGB", (5, 5), "red"), "PNG")
    assert processing.prepare(data).sha256 == hashlib.sha256(data).hexdigest()


def test_animation_with_too_many_frames_is_refused(settings: object) -> None:
    settings.MEDIA_MAX_PIXELS = 40 * 30  # type: ignore[attr-defined]
    with pytest.raises(ValidationError, match="too many frames"):
        processing.prepare(animated_bytes("GIF", frames=6))
