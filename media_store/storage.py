"""The only code that knows about S3/MinIO.

Two endpoints matter: the in-cluster one that the app talks to
(`S3_ENDPOINT_URL`) and the public one that browsers reach
(`S3_PUBLIC_ENDPOINT_URL`). Presigned URLs carry a signature over the host,
so they must be signed for the public endpoint, not rewritten afterwards.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from storages.backends.s3 import S3Storage

# An unreachable bucket must fail an upload within seconds instead of
# holding a worker thread through botocore's default retries (~minutes).
# Each request to S3 waits at most S3_CONNECT_TIMEOUT + S3_READ_TIMEOUT per
# attempt, S3_MAX_ATTEMPTS attempts (settings, from the environment).


def _client_config() -> Config:
    return Config(
        s3={"addressing_style": "path"},
        signature_version="s3v4",
        connect_timeout=settings.S3_CONNECT_TIMEOUT,
        read_timeout=settings.S3_READ_TIMEOUT,
        # total_max_attempts counts the first try; botocore's max_attempts
        # counts only retries (2 there meant 3 tries).
        retries={"total_max_attempts": settings.S3_MAX_ATTEMPTS, "mode": "standard"},
        # Request threads plus the rendition uploads share one pool.
        max_pool_connections=32,
    )


def request_time_bound() -> float:
    """The longest one S3 call may take under the configured timeouts.

    Per attempt: the connect timeout, botocore's wait of up to 1 s for
    "100 Continue" before sending a PUT's body, the read timeout; between
    attempts the standard retry mode's backoff (at most 1 s for the first
    retries). The uploads of one image run side by side, so this bounds an
    upload request too, apart from the image processing.
    """
    attempts = settings.S3_MAX_ATTEMPTS
    per_attempt = settings.S3_CONNECT_TIMEOUT + 1.0 + settings.S3_READ_TIMEOUT
    return attempts * per_attempt + (attempts - 1) * 1.0


class S3MediaStorage(S3Storage):
    """django-storages' S3 backend with short timeouts, for MinIO or any S3."""

    def __init__(self, **options: Any) -> None:
        options.setdefault("client_config", _client_config())
        super().__init__(**options)


def is_s3() -> bool:
    return bool(settings.S3_ENDPOINT_URL)


def _options() -> dict[str, Any]:
    return settings.STORAGES["default"]["OPTIONS"]


# botocore clients are thread-safe, and building one (service model JSON,
# endpoint rules) costs far more than the call it makes. django-storages
# keeps one per *thread*, and under ASGI every request runs in a fresh
# thread, so the code here uses one client per endpoint for the process.
_clients: dict[tuple[Any, ...], Any] = {}
_clients_lock = threading.Lock()


def _client(endpoint: str) -> Any:
    options = _options()
    key = (
        endpoint,
        options["access_key"],
        options["secret_key"],
        options["region_name"],
        settings.S3_CONNECT_TIMEOUT,
        settings.S3_READ_TIMEOUT,
        settings.S3_MAX_ATTEMPTS,
    )
    client = _clients.get(key)
    if client is None:
        with _clients_lock:
            client = _clients.get(key)
            if client is None:
                client = boto3.session.Session().client(
                    "s3",
                    endpoint_url=endpoint,
                    aws_access_key_id=options["access_key"],
                    aws_secret_access_key=options["secret_key"],
                    region_name=options["region_name"],
                    config=_client_config(),
                )
                _clients[key] = client
    return client


def internal_client() -> Any:
    """The process-wide client on the in-cluster endpoint."""
    return _client(_options()["endpoint_url"])


def public_client() -> Any:
    """The process-wide client that signs URLs for the browser-facing endpoint."""
    return _client(settings.S3_PUBLIC_ENDPOINT_URL or _options()["endpoint_url"])


def put_object(name: str, data: bytes, *, content_type: str) -> str:
    """Store `data` under exactly `name` (one PUT); returns the name.

    Keys derive from a fresh UUID, so unlike django-storages' `save` there is
    no existence check (a HEAD) first.
    """
    if is_s3():
        internal_client().put_object(
            Bucket=settings.S3_BUCKET, Key=name, Body=data, ContentType=content_type
        )
        return name
    content = ContentFile(data)
    return default_storage.save(name, content)


# Types a browser only ever paints: anything else (SVG, HTML, unknown) is
# served as a download, so a file that slipped past validation cannot run
# script on the media host.
RASTER_CONTENT_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]")


def content_headers(*, content_type: str, filename: str) -> dict[str, str]:
    """Response overrides for a presigned GET: the type from our database, not
    the object's metadata, and inline only for raster images."""
    safe_name = _UNSAFE_FILENAME.sub("_", filename)[:100] or "file"
    if content_type in RASTER_CONTENT_TYPES:
        disposition = f'inline; filename="{safe_name}"'
    else:
        content_type = "application/octet-stream"
        disposition = f'attachment; filename="{safe_name}"'
    return {
        "ResponseContentType": content_type,
        "ResponseContentDisposition": disposition,
    }


def presigned_get_url(
    key: str,
    *,
    expires: int | None = None,
    content_type: str = "",
    filename: str = "",
) -> str:
    """A short-lived GET URL for `key` on the public endpoint.

    The response carries the given content type and a Content-Disposition
    (inline for raster images, attachment for anything else or when no type
    is given). Signing is local: no request to the S3 server.
    """
    return public_client().generate_presigned_url(
        "get_object",
        Params={
            "Bucket": settings.S3_BUCKET,
            "Key": key,
            **content_headers(
                content_type=content_type, filename=filename or key.rsplit("/", 1)[-1]
            ),
        },
        ExpiresIn=expires or settings.S3_PRESIGN_SECONDS,
    )


def presigned_post(
    key: str, *, content_type: str, min_bytes: int, max_bytes: int, expires: int
) -> dict[str, Any]:
    """A presigned POST restricted to one key, a size range and a content type."""
    return public_client().generate_presigned_post(
        Bucket=settings.S3_BUCKET,
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[
            {"Content-Type": content_type},
            ["content-length-range", min_bytes, max_bytes],
        ],
        ExpiresIn=expires,
    )


def bucket_reachable(*, timeout: float) -> None:
    """Raise unless the bucket answers a HEAD within `timeout` seconds."""
    options = _options()
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=options["endpoint_url"],
        aws_access_key_id=options["access_key"],
        aws_secret_access_key=options["secret_key"],
        region_name=options["region_name"],
        config=Config(
            s3={"addressing_style": "path"},
            signature_version="s3v4",
            connect_timeout=timeout,
            read_timeout=timeout,
            retries={"max_attempts": 1, "mode": "standard"},
        ),
    )
    client.head_bucket(Bucket=settings.S3_BUCKET)


@dataclass(frozen=True)
class StoredObject:
    name: str
    modified: datetime
    size: int


def iter_objects(prefix: str) -> Iterator[StoredObject]:
    """Every stored object whose name starts with `prefix`, S3 or local disk."""
    if is_s3():
        paginator = internal_client().get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=settings.S3_BUCKET, Prefix=prefix):
            for obj in page.get("Contents", []):
                yield StoredObject(obj["Key"], obj["LastModified"], obj["Size"])
        return
    root = Path(default_storage.location)
    top = root / prefix.rstrip("/")
    if not top.is_dir():
        return
    for path in sorted(top.rglob("*")):
        if path.is_file():
            stat = path.stat()
            yield StoredObject(
                path.relative_to(root).as_posix(),
                datetime.fromtimestamp(stat.st_mtime, tz=UTC),
                stat.st_size,
            )


def ensure_bucket() -> bool:
    """Create the bucket when missing and drop any public policy; True if created."""
    client = internal_client()
    bucket = settings.S3_BUCKET
    created = False
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in {
            "404",
            "NoSuchBucket",
            "NotFound",
        }:
            raise
        client.create_bucket(Bucket=bucket)
        created = True
    try:
        # Images are served through presigned URLs only: no anonymous read
        # or list, whatever an operator may have set by hand.
        client.delete_bucket_policy(Bucket=bucket)
    except ClientError:
        pass
    return created


__all__ = [
    "BotoCoreError",
    "ClientError",
    "S3MediaStorage",
    "bucket_reachable",
    "ensure_bucket",
    "StoredObject",
    "internal_client",
    "is_s3",
    "iter_objects",
    "presigned_get_url",
    "presigned_post",
    "put_object",
    "request_time_bound",
    "public_client",
]
