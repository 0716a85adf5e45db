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
