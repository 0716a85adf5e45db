"""Writes for images: the one upload path, deletion.

Admin, Markdown import, the REST API, demo content and the direct
browser-to-bucket flow all call `image_create`, so validation, metadata
stripping and the "nothing left behind on failure" rule hold everywhere.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from blog_site.errors import ServiceUnavailable
from media_store import processing, storage
from media_store.models import Image, original_key
from media_store.renditions import StoreError, objects_store, rendition_names
from media_store.usage import find_usages

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

# Errors a storage backend raises when the bucket or disk is unreachable or
# refuses the write; they become ServiceUnavailable (a ValidationError), never a 500.
STORAGE_ERRORS = (BotoCoreError, ClientError, OSError)
# The subset that means "no answer in time": retrying a cleanup is pointless.
UNREACHABLE_ERRORS = (BotoConnectionError, HTTPClientError)


def storage_unavailable() -> ServiceUnavailable:
    return ServiceUnavailable(
        _(
            "The image could not be stored: the file storage is unavailable. "
            "Try again later."
        ),
        code="storage_unavailable",
    )


def _delete_objects_quietly(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except STORAGE_ERRORS:
            # The reconcile command finds objects without a row later.
            logger.warning("could not delete stored object %s", name, exc_info=True)


def _cleanup_after(error: BaseException | None, names: list[str]) -> None:
    """Remove what a failed upload stored, unless the storage is unreachable:
    then each delete would wait out the timeouts again, so the objects are
    left to `media_reconcile` and the request fails within one timeout."""
    if isinstance(error, UNREACHABLE_ERRORS):
        if names:
            logger.warning(
                "storage unreachable: %d object(s) left for media_reconcile",
                len(names),
            )
        return
    _delete_objects_quietly(names)


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
    acceptable image or the storage is down; then no row is left, and no
    object either unless the storage became unreachable mid-upload (those
    are removed by `media_reconcile`). Stores the objects before the row
    commits: if a caller's outer transaction rolls back, they are orphaned
    until `media_reconcile` too.
    """
    prepared = processing.prepare(file)
    existing = Image.objects.filter(sha256=prepared.sha256).first()
    if existing is not None:
        return existing
    staged = _stage(prepared, alt=alt, uploader=uploader, image_id=image_id)
    return _save_row(staged)


@dataclass(frozen=True)
class StagedImage:
    """An upload whose objects are stored but whose row is not saved yet."""

    image: Image
    stored: list[str]


def image_stage(
    *, file: IO[bytes] | bytes, alt: str = "", image_id: uuid.UUID | None = None
) -> StagedImage:
    """`image_create` up to the row: validate, normalise and store the objects.

    Makes no database query, so a bulk import can run it on worker threads
    (Pillow releases the GIL) while its own thread saves rows; the caller
    then calls `image_staged_save` or, if it gives up, `image_staged_discard`.
    Raises the same ValidationErrors as `image_create`, leaving no object
    behind on the same terms.
    """
    return _stage(processing.prepare(file), alt=alt, uploader=None, image_id=image_id)


def _stage(
    prepared: processing.Prepared,
    *,
    alt: str,
    uploader: User | None,
    image_id: uuid.UUID | None,
) -> StagedImage:
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
    original = original_key(image, "original")

    try:
        stored = objects_store(image=image, prepared=prepared, original_name=original)
    except StoreError as exc:
        cause = exc.__cause__ or exc
        _cleanup_after(cause, exc.stored)
        if isinstance(cause, STORAGE_ERRORS):
            logger.warning("storing image %s failed", image.pk, exc_info=cause)
            raise storage_unavailable() from cause
        raise cause from None
    image.file.name = stored[0]
    return StagedImage(image=image, stored=stored)


def image_staged_save(*, staged: StagedImage, uploader: User | None = None) -> Image:
    """Save a staged image's row (`uploader` if given); when the same bytes
    already have a row, that Image is returned and the staged objects go."""
    existing = Image.objects.filter(sha256=staged.image.sha256).first()
    if existing is not None:
        _delete_objects_quietly(staged.stored)
        return existing
    if uploader is not None:
        staged.image.uploader = uploader
    return _save_row(staged)


def _save_row(staged: StagedImage) -> Image:
    image = staged.image
    try:
        with transaction.atomic():
            image.save(force_insert=True)
    except IntegrityError:
        # A concurrent upload of the same bytes won the unique sha256.
        _delete_objects_quietly(staged.stored)
        winner = Image.objects.filter(sha256=image.sha256).first()
        if winner is None:
            raise
        return winner
    except BaseException:
        _delete_objects_quietly(staged.stored)
        raise
    return image


def image_staged_discard(*, staged: StagedImage) -> None:
    """Remove the objects of a staged image that will not be saved."""
    _delete_objects_quietly(staged.stored)


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
    try:
        with transaction.atomic():
            image.delete()
            transaction.on_commit(lambda: _delete_objects_quietly(names))
    except ProtectedError as exc:
        # A PROTECT foreign key (say Post.thumbnail) whose app registered
        # no usage finder still refuses the delete, with a clear message.
        raise ValidationError(
            _("This image is used and cannot be deleted: %(places)s.")
            % {"places": "; ".join(str(obj) for obj in exc.protected_objects)},
            code="in_use",
        ) from exc


# --- Direct browser-to-bucket uploads --------------------------------------
#
# 1. `image_direct_upload_begin` hands the browser a presigned POST for one
#    key under uploads/, one content type and a size range, plus a signed
#    token naming that key and the uploader.
# 2. The browser POSTs the file straight to the bucket.
# 3. `image_direct_upload_confirm` reads the object back, runs it through
#    `image_create` (same validation and normalisation as any upload) and
#    deletes the raw upload, whatever the outcome.
# Uploads never confirmed are removed by `manage.py media_cleanup_uploads`.

UPLOAD_PREFIX = "uploads/"
_SIGNING_SALT = "media_store.direct_upload"


@dataclass(frozen=True)
class DirectUpload:
    """What the browser needs: where to POST, the form fields, the token."""

    url: str
    fields: dict[str, str]
    token: str
    key: str
    max_bytes: int

    def as_json(self) -> dict[str, Any]:
        return {
            "method": "post",
            "url": self.url,
            "fields": self.fields,
            "token": self.token,
            "max_bytes": self.max_bytes,
        }


def image_direct_upload_begin(*, uploader: User, content_type: str) -> DirectUpload:
    """A presigned POST for one new key; ValidationError for a non-image type
    or when the storage is not S3 (use the multipart upload then)."""
    if not storage.is_s3():
        raise ValidationError(
            _("Direct uploads need S3 storage; upload the file instead."),
            code="direct_unavailable",
        )
    allowed = set(processing.CONTENT_TYPES.values())
    if content_type not in allowed:
        raise ValidationError(
            _("Only JPEG, PNG, GIF and WebP images can be uploaded."),
            code="invalid_content_type",
        )
    image_id = uuid.uuid4()
    key = f"{UPLOAD_PREFIX}{image_id}"
    max_bytes = settings.MEDIA_MAX_UPLOAD_BYTES
    try:
        post = storage.presigned_post(
            key,
            content_type=content_type,
            min_bytes=1,
            max_bytes=max_bytes,
            expires=settings.MEDIA_DIRECT_UPLOAD_SECONDS,
        )
    except STORAGE_ERRORS as exc:
        raise storage_unavailable() from exc
    token = signing.dumps(
        {"id": str(image_id), "user": uploader.pk}, salt=_SIGNING_SALT
    )
    return DirectUpload(
        url=post["url"],
        fields=post["fields"],
        token=token,
        key=key,
        max_bytes=max_bytes,
    )


def _direct_upload_key(*, token: str, uploader: User) -> tuple[str, uuid.UUID]:
    invalid = ValidationError(
        _("This upload is unknown or has expired; upload the image again."),
        code="invalid_token",
    )
    try:
        payload = signing.loads(
            token,
            salt=_SIGNING_SALT,
            # Confirmation follows the upload at once; twice the POST's
            # lifetime leaves room for a slow connection, not for reuse.
            max_age=settings.MEDIA_DIRECT_UPLOAD_SECONDS * 2,
        )
        image_id = uuid.UUID(payload["id"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise invalid from exc
    if payload.get("user") != uploader.pk:
        raise invalid
    return f"{UPLOAD_PREFIX}{image_id}", image_id


def image_direct_upload_confirm(*, token: str, uploader: User, alt: str = "") -> Image:
    """Verify the object the browser uploaded and create the Image from it.

    The raw upload is deleted in every case; a bad file gets the same
    ValidationError as any other upload path.
    """
    key, image_id = _direct_upload_key(token=token, uploader=uploader)
    try:
        if not default_storage.exists(key):
            raise ValidationError(
                _("The upload did not reach the storage; upload the image again."),
                code="missing_upload",
            )
        if default_storage.size(key) > settings.MEDIA_MAX_UPLOAD_BYTES:
            raise processing.too_large(settings.MEDIA_MAX_UPLOAD_BYTES)
        with default_storage.open(key, "rb") as uploaded:
            data = uploaded.read(settings.MEDIA_MAX_UPLOAD_BYTES + 1)
    except STORAGE_ERRORS as exc:
        raise storage_unavailable() from exc
    try:
        return image_create(file=data, alt=alt, uploader=uploader, image_id=image_id)
    finally:
        _delete_objects_quietly([key])


def unconfirmed_uploads_delete(
    *, older_than: timedelta, dry_run: bool = False
) -> list[str]:
    """Delete direct uploads never confirmed within `older_than`; returns names."""
    cutoff = timezone.now() - older_than
    stale = [
        obj.name for obj in storage.iter_objects(UPLOAD_PREFIX) if obj.modified < cutoff
    ]
    if not dry_run:
        for name in stale:
            default_storage.delete(name)
    return stale


def orphan_objects(*, older_than: timedelta) -> list[str]:
    """Objects under images/ whose image has no row (young ones are skipped:
    an upload in flight stores its object before its row commits)."""
    cutoff: datetime = timezone.now() - older_than
    by_id: dict[str, list[str]] = {}
    for obj in storage.iter_objects("images/"):
        parts = obj.name.split("/")
        if len(parts) < 3 or obj.modified >= cutoff:
            continue
        by_id.setdefault(parts[1], []).append(obj.name)
    valid_ids: set[str] = set()
    for raw in by_id:
        try:
            valid_ids.add(str(uuid.UUID(raw)))
        except ValueError:
            continue
    known = {
        str(pk)
        for pk in Image.objects.filter(pk__in=list(valid_ids)).values_list(
            "pk", flat=True
        )
    }
    return sorted(
        name for raw, names in by_id.items() if raw not in known for name in names
    )


def orphan_objects_delete(*, older_than: timedelta) -> list[str]:
    """Delete what `orphan_objects` finds; returns the deleted names."""
    names = orphan_objects(older_than=older_than)
    for name in names:
        default_storage.delete(name)
    return names
