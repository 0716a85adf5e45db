from uuid import UUID

from django.db.models import QuerySet

from media_store.models import Image


def image_list() -> QuerySet[Image]:
    return Image.objects.select_related("uploader")


def image_get(*, pk: UUID) -> Image | None:
    return Image.objects.filter(pk=pk).first()
