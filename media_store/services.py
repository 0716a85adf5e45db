"""Writes for images: the one upload path, deletion.

Admin, Markdown import, the REST API, demo content and the direct
browser-to-bucket flow all call `image_create`, so validation, metadata
stripping and the "nothing left behind on failure" rule hold everywhere.
"""

from __future__ import annotations

import logging
import uuid
from typing import IO, TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from media_store import processing
from media_store.models import Image
from media_store.renditions import rendition_names, renditions_make
from media_store.usage import find_usages

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

# Errors a storage backend raises when the bucket or disk is unreachable or
# refuses the write; they become a ValidationError, never a 500.
STORAGE_ERRORS = (BotoCoreError, ClientError, OSError)


def storage_unavailable() -> ValidationError:
    return ValidationError(
        _(
            "The image could not be stored: the file storage is unavailable. "
            "Try again later."
        ),
        code="storage_unavailable",
    )


def _content(data: bytes, content_type: str) -> ContentFile:
    content = ContentFile(data)
    # django-storages sends this as the object's Content-Type; the key has no
    # extension to guess it from.
    content.content_type = content_type  # type: ignore[attr-defined]
    return content


def _delete_objects_quietly(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except STORAGE_ERRORS:
            # The reconcile command finds objects without a row later.
            logger.warning("could not delete stored object %s", name, exc_info=True)


def image_create(
    *,
    file: IO[bytes] | bytes,
    alt: str = "",
    uploader: User | None = None,
    image_id: uuid.UUID | None = None,
) -> Image:
    """Validate, normalise and store an upload; the same bytes again return the
    existing Image.

    Raises ValidationError with a message for people when the file is not an
    acceptable image or the storage is down; then neither a row nor an object
    is left. Stores the object before the row commits: if a caller's outer
    transaction rolls back, the object is orphaned until `media_reconcile`.
    """
    prepared = processing.prepare(file)
    existing = Image.objects.filter(sha256=prepared.sha256).first()
    if existing is not None:
        return existing

    image = Image(
        id=image_id or uuid.uuid4(),
        width=prepared.width,
        height=prepared.height,
        format=prepared.format,
        size=len(prepared.content),
        sha256=prepared.sha256,
        alt=alt.strip(),
        uploader=uploader,
    )
    image.full_clean(exclude=["file"], validate_unique=False)

    try:
        image.file.save(
            "original", _content(prepared.content, prepared.content_type), save=False
        )
    except STORAGE_ERRORS as exc:
        logger.warning("storing image %s failed", image.pk, exc_info=True)
        raise storage_unavailable() from exc
    stored = [image.file.name]

    try:
        stored += renditions_make(image=image, prepared=prepared)
        with transaction.atomic():
            image.save(force_insert=True)
    except IntegrityError:
        # A concurrent upload of the same bytes won the unique sha256.
        _delete_objects_quietly(stored)
        winner = Image.objects.filter(sha256=prepared.sha256).first()
        if winner is None:
            raise
        return winner
    except STORAGE_ERRORS as exc:
        _delete_objects_quietly(stored)
        raise storage_unavailable() from exc
    except BaseException:
        _delete_objects_quietly(stored)
        raise
    return image


def image_update(*, image: Image, alt: str) -> Image:
    """Change the alt text, the only editable property of a stored image."""
    image.alt = alt.strip()
    image.full_clean(exclude=["file"])
    image.save(update_fields=["alt"])
    return image


def image_delete(*, image: Image) -> None:
    """Delete the row; its stored objects go once the transaction commits.

    Refuses (ValidationError listing the places) while any registered usage
    finder reports the image in use.
    """
    usages = find_usages(image)
    if usages:
        raise ValidationError(
            _("This image is used and cannot be deleted: %(places)s.")
            % {"places": "; ".join(u.label for u in usages)},
            code="in_use",
        )
    names = [image.file.name, *rendition_names(image)]
    with transaction.atomic():
        image.delete()
        transaction.on_commit(lambda: _delete_objects_quietly(names))
