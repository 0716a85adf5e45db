"""API detail route of images for the security crawls (tests/security/crawl.py)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from media_store.models import Image


def samples(*, staff: Any) -> Iterable[str]:
    image = Image.objects.first()
    return [f"/api/v1/images/{image.pk}/"] if image is not None else []
