"""Smaller copies of an image for `srcset`, made once with Pillow at upload.

They live next to the original: `images/<uuid>/w480.webp` and
`images/<uuid>/w480.jpg` (the original's format), so deleting the image's
prefix removes them all.
"""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image as PILImage

from media_store.processing import CONTENT_TYPES, EXTENSIONS, Prepared

if TYPE_CHECKING:
    from media_store.models import Image

logger = logging.getLogger(__name__)

WEBP = "WEBP"
RENDITION_QUALITY = 82


def rendition_name(image: Image, width: int, fmt: str) -> str:
    return f"images/{image.pk}/w{width}.{EXTENSIONS[fmt]}"


def rendition_formats(image: Image) -> list[str]:
    """WebP plus the original's format (just WebP when the original is WebP)."""
    return [WEBP] if image.format == WEBP else [WEBP, image.format]


def rendition_names(image: Image) -> list[str]:
    return [
        rendition_name(image, width, fmt)
        for width in image.renditions
        for fmt in rendition_formats(image)
    ]


def _encode(img: PILImage.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        img.convert("RGB").save(
            out, "JPEG", quality=RENDITION_QUALITY, optimize=True, progressive=True
        )
    elif fmt == "WEBP":
        if img.mode not in {"RGB", "RGBA"}:
            img = img.convert("RGBA" if "A" in img.getbands() else "RGB")
        img.save(out, "WEBP", quality=RENDITION_QUALITY, method=4)
    elif fmt == "GIF":
        img.convert("P", palette=PILImage.Palette.ADAPTIVE).save(out, "GIF")
    else:
        img.save(out, "PNG", optimize=True)
    return out.getvalue()


def renditions_make(*, image: Image, prepared: Prepared) -> list[str]:
    """Store the renditions narrower than the original; sets image.renditions.

    Returns the stored names so a caller can remove them if its own work
    fails. Animations keep only their original: resizing every frame is
    slow and rarely smaller than the source.
    """
    image.renditions = []
    if prepared.is_animated:
        return []
    widths = sorted(w for w in settings.MEDIA_RENDITION_WIDTHS if w < prepared.width)
    if not widths:
        return []
    stored: list[str] = []
    with PILImage.open(io.BytesIO(prepared.content)) as source:
        source.load()
        base = source
        if base.mode in {"P", "PA", "LA", "I;16", "I", "F", "CMYK", "1"}:
            has_alpha = "transparency" in base.info or "A" in base.getbands()
            base = base.convert("RGBA" if has_alpha else "RGB")
        try:
            for width in widths:
                height = max(1, round(prepared.height * width / prepared.width))
                resized = base.resize((width, height), PILImage.Resampling.LANCZOS)
                for fmt in rendition_formats(image):
                    name = rendition_name(image, width, fmt)
                    content = ContentFile(_encode(resized, fmt))
                    content.content_type = CONTENT_TYPES[fmt]  # type: ignore[attr-defined]
                    stored.append(default_storage.save(name, content))
                image.renditions.append(width)
        except BaseException:
            for name in stored:
                try:
                    default_storage.delete(name)
                except Exception:  # noqa: BLE001 - the first error is the one to report
                    logger.warning("could not delete rendition %s", name, exc_info=True)
            raise
    return stored
