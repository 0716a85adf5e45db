"""Backups of the whole site: a consistent database dump plus a copy of the
media bucket, with a manifest that a restore is checked against.

A backup directory holds `database.sql`, `media/<object key>` and, written
last so that an interrupted backup is recognisable, `manifest.json`.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import django
from django.conf import settings
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from backups import mariadb
from backups.mariadb import BackupError
from media_store import selectors as media_selectors
from media_store import storage

MANIFEST_NAME = "manifest.json"
DUMP_NAME = "database.sql"
MEDIA_DIR = "media"
FORMAT = 1
COPY_THREADS = 8


class RestoreRefused(BackupError):
    """The target database or bucket is not empty (use force to overwrite)."""


@dataclass
class RestoreReport:
    seconds: float
    tables: int
    rows: int
    objects: int
    differences: list[str] = field(default_factory=list)


def _applied_migrations() -> list[str]:
    recorder = MigrationRecorder(connection)
    return sorted(f"{app}.{name}" for app, name in recorder.applied_migrations())


def _object_path(root: Path, key: str) -> Path:
    """Where an object is kept in a backup; refuses keys that would escape it."""
    parts = key.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise BackupError(f"refusing to copy an object with an unsafe key: {key!r}")
    return root.joinpath(*parts)


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as data:
        for chunk in iter(lambda: data.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_out(root: Path, obj: storage.BucketObject) -> dict[str, Any]:
    path = _object_path(root, obj.key)
    path.parent.mkdir(parents=True, exist_ok=True)
    headers = storage.object_download(obj.key, path)
    size = path.stat().st_size
    # A multipart ETag ("…-N") is not an MD5 of the bytes; check the size only.
    if size != obj.size or ("-" not in obj.etag and _md5(path) != obj.etag):
        raise BackupError(f"object {obj.key} changed or was damaged while copying")
    return {"key": obj.key, "size": obj.size, "etag": obj.etag, "headers": headers}


def _require_s3() -> None:
    if not storage.is_s3():
        raise BackupError("backups need the S3 media store (S3_ENDPOINT_URL)")


def backup_create(*, dest: Path) -> dict[str, Any]:
    """Write a consistent backup into `dest` while the site keeps running.

    The manifest's table counts and checksums are taken inside the dump's
    own snapshot. The bucket is listed after that snapshot was taken, and
    images are stored before their row commits, so every image in the dump
    has its objects in the copy (unless deleted meanwhile: see `missing`).
    """
    _require_s3()
    dest.mkdir(parents=True, exist_ok=True)
    if (dest / MANIFEST_NAME).exists():
        raise BackupError(f"{dest} already holds a backup")
    started = time.monotonic()
    media_root = dest / MEDIA_DIR
    with mariadb.consistent_dump(dest / DUMP_NAME) as dump:
        tables = mariadb.table_stats()
        migrations = _applied_migrations()
        needed = media_selectors.image_object_names()
        listed = storage.bucket_objects()
        with ThreadPoolExecutor(COPY_THREADS) as pool:
            objects = list(pool.map(lambda o: _copy_out(media_root, o), listed))
    copied = {obj["key"] for obj in objects}
    manifest = {
        "format": FORMAT,
        "created_at": timezone.now().isoformat(),
        "seconds": round(time.monotonic() - started, 3),
        "versions": {
            "server": dump.server,
            "dump_tool": dump.tool,
            "django": django.get_version(),
            "python": platform.python_version(),
        },
        "database": {
            "name": connection.settings_dict["NAME"],
            "file": DUMP_NAME,
            "bytes": dump.path.stat().st_size,
            "sha256": _sha256(dump.path),
            "commits_held_ms": dump.commits_held_ms,
            "tables": tables,
            "migrations": migrations,
        },
        "media": {
            "bucket": settings.S3_BUCKET,
            "dir": MEDIA_DIR,
            "objects": objects,
            "bytes": sum(obj["size"] for obj in objects),
            "missing": sorted(set(needed) - copied),
        },
    }
    partial = dest / (MANIFEST_NAME + ".partial")
    partial.write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
    partial.rename(dest / MANIFEST_NAME)
    return manifest


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for chunk in iter(lambda: data.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_read(src: Path) -> dict[str, Any]:
    path = src / MANIFEST_NAME
    if not path.exists():
        raise BackupError(f"{src} holds no {MANIFEST_NAME}: not a complete backup")
    manifest = json.loads(path.read_text())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    if _sha256(src / manifest["database"]["file"]) != manifest["database"]["sha256"]:
        raise BackupError(f"{manifest['database']['file']} does not match the manifest")
    return manifest


def backup_restore(*, src: Path, force: bool = False) -> RestoreReport:
    """Load a backup into the configured database and bucket, then verify it.

    Refuses a target that holds any table or object unless `force` (the
    dump then replaces the tables it contains; other tables stay).
    """
    _require_s3()
    manifest = manifest_read(src)
    storage.ensure_bucket()
    if not force and not mariadb.database_is_empty():
        raise RestoreRefused(
            f"database {connection.settings_dict['NAME']} is not empty"
        )
    if not force and not storage.bucket_is_empty():
        raise RestoreRefused(f"bucket {settings.S3_BUCKET} is not empty")
    started = time.monotonic()
    mariadb.load(src / manifest["database"]["file"])
    media_root = src / manifest["media"]["dir"]

    def put(obj: dict[str, Any]) -> None:
        storage.object_upload(
            obj["key"], _object_path(media_root, obj["key"]), obj["headers"]
        )

    with ThreadPoolExecutor(COPY_THREADS) as pool:
        list(pool.map(put, manifest["media"]["objects"]))
    seconds = time.monotonic() - started
    tables = manifest["database"]["tables"]
    return RestoreReport(
        seconds=round(seconds, 3),
        tables=len(tables),
        rows=sum(table["rows"] for table in tables.values()),
        objects=len(manifest["media"]["objects"]),
        differences=backup_differences(manifest=manifest),
    )


def backup_differences(*, manifest: dict[str, Any]) -> list[str]:
    """How the configured database and bucket differ from a backup's manifest."""
    differences = []
    expected = manifest["database"]["tables"]
    actual = mariadb.table_stats()
    for table in sorted(set(expected) | set(actual)):
        if expected.get(table) != actual.get(table):
            differences.append(
                f"table {table}: backup {expected.get(table)}, here {actual.get(table)}"
            )
    if _applied_migrations() != manifest["database"]["migrations"]:
        differences.append("applied migrations differ from the backup's")
    present = {obj.key: obj for obj in storage.bucket_objects()}
    for obj in manifest["media"]["objects"]:
        here = present.get(obj["key"])
        if here is None:
            differences.append(f"object {obj['key']}: missing")
        elif here.size != obj["size"] or (
            "-" not in obj["etag"] and here.etag != obj["etag"]
        ):
            differences.append(f"object {obj['key']}: size or content differs")
    return differences
