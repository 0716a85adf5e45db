from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db.models import QuerySet

from blog_site import page_cache
from media_store.models import Image
from media_store.usage import image_is_public


def image_list() -> QuerySet[Image]:
    return Image.objects.select_related("uploader")


def image_get(*, pk: UUID) -> Image | None:
    return Image.objects.filter(pk=pk).first()


def image_list_uploaded_by(*, user: Any) -> QuerySet[Image]:
    """`user`'s own uploads, newest first."""
    return Image.objects.filter(uploader=user).order_by("-created_at", "-id")


# --- Serving /images/<uuid> ---------------------------------------------------
#
# Every page shows images, so /images/<uuid> is the hottest path of the site.
# What it needs (the stored names, and whether a published post shows the
# image: one query through the usage finders) is remembered per process,
# keyed on the content version that every post write bumps. An image can be
# deleted only when no post uses it, which takes a post write first, so a
# remembered public image never outlives its row by more than that bump.
# Entries also expire after MEDIA_VISIBILITY_CACHE_SECONDS, since a
# scheduled post goes public without any write.


@dataclass(frozen=True)
class ServedImage:
    """The read-only facts the image redirect needs, safe to share between threads."""

    pk: UUID
    name: str
    format: str
    renditions: tuple[int, ...]
    uploader_id: int | None
    public: bool

    @property
    def content_type(self) -> str:
        return f"image/{self.format.lower()}"


_served: OrderedDict[UUID, tuple[str, float, ServedImage]] = OrderedDict()
_served_lock = threading.Lock()
_SERVED_MAX_ENTRIES = 10_000


def _served_fresh(pk: UUID) -> ServedImage | None:
    image = (
        Image.objects.filter(pk=pk)
        .only("id", "file", "format", "renditions", "uploader_id")
        .first()
    )
    if image is None:
        return None
    return ServedImage(
        pk=image.pk,
        name=image.file.name,
        format=image.format,
        renditions=tuple(image.renditions),
        uploader_id=image.uploader_id,
        public=image_is_public(image),
    )


def image_get_for_serving(*, pk: UUID) -> ServedImage | None:
    """The image at `pk` with its public flag, mostly without a query (see above).

    Unknown ids are not remembered: an import may create an image under a
    UUID that was requested before.
    """
    version = page_cache.content_version_sync()
    if version is None:
        # The version cannot be read, so a remembered answer might be stale.
        return _served_fresh(pk)
    now = time.monotonic()
    with _served_lock:
        hit = _served.get(pk)
        if hit is not None and hit[0] == version and hit[1] > now:
            _served.move_to_end(pk)
            return hit[2]
    served = _served_fresh(pk)
    if served is None:
        return None
    expires = now + settings.MEDIA_VISIBILITY_CACHE_SECONDS
    with _served_lock:
        _served[pk] = (version, expires, served)
        _served.move_to_end(pk)
        while len(_served) > _SERVED_MAX_ENTRIES:
            _served.popitem(last=False)
    return served


def image_visible_to(*, image: ServedImage, user: Any) -> bool:
    """Visitors see images of published posts; staff and the uploader see all
    (an editor previewing a draft, an author who uploaded before publishing)."""
    if image.public:
        return True
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and (user.is_staff or user.pk == image.uploader_id)
    )
