from typing import Any
from uuid import UUID

from django.db.models import QuerySet

from media_store.models import Image


def image_list() -> QuerySet[Image]:
    return Image.objects.select_related("uploader")


def image_get(*, pk: UUID) -> Image | None:
    return Image.objects.filter(pk=pk).first()


def image_list_uploaded_by(*, user: Any) -> QuerySet[Image]:
    """`user`'s own uploads, newest first."""
    return Image.objects.filter(uploader=user).order_by("-created_at", "-id")


def image_object_names() -> list[str]:
    """Every object name the stored images need: originals and renditions."""
    from media_store.renditions import rendition_names

    names: list[str] = []
    for image in Image.objects.only("id", "file", "format", "renditions"):
        names.append(image.file.name)
        names.extend(rendition_names(image))
    return sorted(names)
