"""Pillow work on image bytes: validate, normalise, resize. No storage, no DB.

Every upload path goes through `prepare()`, so what is stored is always a
re-encoded picture of a known format with its orientation applied and its
metadata (EXIF, GPS, XMP, text chunks, comments) gone.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image as PILImage
from PIL import ImageOps, ImageSequence, JpegImagePlugin, UnidentifiedImageError

CONTENT_TYPES = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}
# Animations may hold many frames; each frame is decoded, so their total is
# capped too, at a multiple of the still-image cap.
ANIMATION_PIXEL_FACTOR = 5
WEBP_QUALITY = 90


@dataclass(frozen=True)
class Prepared:
    """A validated, normalised picture ready to store."""

    content: bytes
    format: str
    width: int
    height: int
    frames: int
    sha256: str  # of the bytes as uploaded, so re-uploading them is recognised

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]

    @property
    def is_animated(self) -> bool:
        return self.frames > 1


def read_limited(file: IO[bytes] | bytes) -> bytes:
    """The file's bytes; a clear error when empty or over MEDIA_MAX_UPLOAD_BYTES."""
    limit = settings.MEDIA_MAX_UPLOAD_BYTES
    if isinstance(file, bytes | bytearray | memoryview):
        data = bytes(file)
    else:
        declared = getattr(file, "size", None)
        if isinstance(declared, int) and declared > limit:
            raise too_large(limit)
        if hasattr(file, "seek"):
            file.seek(0)
        # Read one byte past the cap: a declared size can lie.
        data = file.read(limit + 1)
    if not data:
        raise ValidationError(_("The file is empty."), code="empty")
    if len(data) > limit:
        raise too_large(limit)
    return data


def too_large(limit: int) -> ValidationError:
    return ValidationError(
        _("The file is larger than %(limit)s.") % {"limit": filesizeformat(limit)},
        code="too_large",
    )


def _not_an_image() -> ValidationError:
    return ValidationError(
        _("This is not a JPEG, PNG, GIF or WebP image (or the file is damaged)."),
        code="invalid_image",
    )


def _too_many_pixels(width: int, height: int) -> ValidationError:
    return ValidationError(
        _(
            "The image is %(width)s×%(height)s pixels; at most %(limit)s "
            "million pixels are accepted."
        )
        % {
            "width": width,
            "height": height,
            "limit": f"{settings.MEDIA_MAX_PIXELS / 1_000_000:g}",
        },
        code="too_many_pixels",
    )


def _open(data: bytes) -> PILImage.Image:
    """Open `data` reading only the header; pixel and format checks first."""
    limit = settings.MEDIA_MAX_PIXELS
    with warnings.catch_warnings():
        # Pillow warns (and past 2x raises) on huge images; our own cap is
        # checked right after, so the warning is just noise here.
        warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
        try:
            img = PILImage.open(io.BytesIO(data), formats=list(CONTENT_TYPES))
        except PILImage.DecompressionBombError as exc:
            raise ValidationError(
                _("The image declares too many pixels to be decoded safely."),
                code="too_many_pixels",
            ) from exc
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
            raise _not_an_image() from exc
    width, height = img.size
    if width < 1 or height < 1:
        raise _not_an_image()
    if width * height > limit:
        raise _too_many_pixels(width, height)
    frames = getattr(img, "n_frames", 1)
    if frames * width * height > limit * ANIMATION_PIXEL_FACTOR:
        raise ValidationError(
            _("The animation has too many frames (%(frames)s).") % {"frames": frames},
            code="too_many_frames",
        )
    return img


def _load_all_frames(img: PILImage.Image) -> None:
    """Decode every frame, so a truncated or corrupt file fails here."""
    damaged = ValidationError(
        _("The %(format)s file is damaged or incomplete; it cannot be decoded.")
        % {"format": img.format},
        code="invalid_image",
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
            for frame in ImageSequence.Iterator(img):
                frame.load()
        img.seek(0)
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise damaged from exc


def _encode(img: PILImage.Image, fmt: str, frames: int) -> bytes:
    """Re-encode without metadata; only colour profile and timing survive."""
    out = io.BytesIO()
    icc = img.info.get("icc_profile")
    common: dict[str, Any] = {"icc_profile": icc} if icc else {}
    if frames > 1:
        # Animations: orientation tags are practically never set on them,
        # and transposing frame by frame would lose their timing.
        extra: dict[str, Any] = {"save_all": True}
        if fmt == "GIF":
            img.info.pop("comment", None)
            extra["comment"] = b""
        if fmt == "WEBP":
            extra["quality"] = WEBP_QUALITY
        img.save(out, fmt, **common, **extra)
        return out.getvalue()
    still = ImageOps.exif_transpose(img) or img
    if fmt == "JPEG":
        params: dict[str, Any] = {"optimize": True}
        # The source's quantisation tables keep the re-encode close to the
        # original instead of applying a second, different compression.
        if getattr(img, "quantization", None):
            params["qtables"] = img.quantization
            sampling = JpegImagePlugin.get_sampling(img)
            if sampling != -1:
                params["subsampling"] = sampling
        else:
            params["quality"] = 90
        if still.mode not in {"RGB", "L", "CMYK"}:
            still = still.convert("RGB")
        still.save(out, "JPEG", **common, **params)
    elif fmt == "PNG":
        still.save(out, "PNG", **common)
    elif fmt == "GIF":
        still.info.pop("comment", None)
        still.save(out, "GIF", **common)
    else:
        still.save(out, "WEBP", quality=WEBP_QUALITY, **common)
    return out.getvalue()


def prepare(file: IO[bytes] | bytes) -> Prepared:
    """Validate an upload and normalise it; raises ValidationError saying why."""
    data = read_limited(file)
    digest = hashlib.sha256(data).hexdigest()
    img = _open(data)
    fmt = img.format or ""
    if fmt not in CONTENT_TYPES:
        raise _not_an_image()
    frames = getattr(img, "n_frames", 1)
    _load_all_frames(img)
    try:
        content = _encode(img, fmt, frames)
        with PILImage.open(io.BytesIO(content)) as check:
            width, height = check.size
    except (OSError, ValueError) as exc:
        raise _not_an_image() from exc
    return Prepared(
        content=content,
        format=fmt,
        width=width,
        height=height,
        frames=frames,
        sha256=digest,
    )
