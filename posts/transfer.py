"""Import and export of posts in the source blog's format.

A post is a Markdown file with YAML front matter, exactly as bdg.blog stores
it::

    ---
    layout: post
    thumbnail: 8b20162b-dc8f-4532-99d4-068298c76931
    title: "온프레미스 블로그 서비스 bdg.blog"
    createdAt: 2023-07-31 15:13:10.641000
    updatedAt: 2023-07-31 15:13:10.641000
    category: "쿠버네티스"
    ---

The file name is `YYYY-MM-DD-<url title>.md`; the URL title becomes the slug.
Export adds a few optional keys (`slug`, `tags`, `published`, `publishedAt`,
`summary`, `author`) so that export then import reproduces the same posts;
the source blog's own files never need them. Timestamps without a zone are
UTC, as the source blog's database stored them.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import frontmatter
import yaml
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Q, Value, When
from django.utils import timezone

from media_store.models import Image
from media_store.services import (
    StagedImage,
    image_create,
    image_stage,
    image_staged_discard,
    image_staged_save,
)
from posts import rendering, services
from posts.cache import content_changes_batched
from posts.models import Category, Post

DATE_PREFIX_RE = re.compile(r"^\d{4}-\d{2}-\d{2}-")
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
DEFAULT_CATEGORY = "미분류"


class ImportFileError(Exception):
    """A file that cannot be imported; the message says why."""


@dataclass
class ImportReport:
    created: list[Post] = field(default_factory=list)
    updated: list[Post] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    warnings: list[tuple[Path, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


def markdown_files(paths: Iterable[Path]) -> list[Path]:
    """The .md files named or found (recursively) under the given folders."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.md") if p.is_file()))
        else:
            found.append(path)
    return found


def _timestamp(value: Any, *, key: str) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    else:
        try:
            parsed = dt.datetime.fromisoformat(str(value).strip())
        except ValueError as exc:
            raise ImportFileError(f"{key}: not a date and time ({value!r})") from exc
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def _uuid(value: Any, *, key: str) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    try:
        return uuid.UUID(str(value).strip())
    except ValueError as exc:
        raise ImportFileError(f"{key}: not an image UUID ({value!r})") from exc


@dataclass
class ParsedPost:
    title: str
    slug: str
    body: str
    category: str
    created_at: dt.datetime
    updated_at: dt.datetime
    thumbnail: uuid.UUID | None
    published: bool
    published_at: dt.datetime | None
    tags: list[str]
    summary: str
    author: str


def parse_post_file(path: Path) -> ParsedPost:
    """Read one file; raise ImportFileError with the reason when it is unusable."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from exc
    except OSError as exc:
        raise ImportFileError(f"cannot read: {exc.strerror}") from exc
    try:
        document = frontmatter.loads(text)
    except yaml.YAMLError as exc:
        raise ImportFileError(f"broken YAML front matter: {exc}") from exc
    meta = document.metadata
    if not isinstance(meta, dict):
        raise ImportFileError("front matter is not a mapping")
    title = str(meta.get("title") or "").strip()
    if not title:
        raise ImportFileError("no title in the front matter")
    now = timezone.now()
    created_at = _timestamp(meta.get("createdAt"), key="createdAt") or now
    updated_at = _timestamp(meta.get("updatedAt"), key="updatedAt") or created_at
    slug = str(meta.get("slug") or "").strip() or DATE_PREFIX_RE.sub("", path.stem)
    tags = meta.get("tags") or []
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",")]
    published = meta.get("published", True)
    return ParsedPost(
        title=title,
        slug=services.slug_from(slug),
        body=document.content.strip() + "\n",
        category=str(meta.get("category") or DEFAULT_CATEGORY).strip(),
        created_at=created_at,
        updated_at=updated_at,
        thumbnail=_uuid(meta.get("thumbnail"), key="thumbnail"),
        published=bool(published)
        if not isinstance(published, str)
        else published.lower() in {"true", "yes", "1"},
        published_at=_timestamp(meta.get("publishedAt"), key="publishedAt"),
        tags=[str(t) for t in tags if str(t).strip()],
        summary=str(meta.get("summary") or "").strip(),
        author=str(meta.get("author") or "").strip(),
    )


def _image_file(images_dir: Path | None, image_id: uuid.UUID) -> Path | None:
    if images_dir is None:
        return None
    for candidate in (images_dir / str(image_id), *images_dir.glob(f"{image_id}.*")):
        if candidate.is_file():
            return candidate
    return None


# Images are decoded, resized, encoded and uploaded on worker threads ahead
# of the posts that use them: Pillow releases the GIL for most of that work,
# so it runs on the other core while this thread writes the rows.
IMAGE_WORKERS = 2
# How far ahead of the post loop the workers may run, in images. Each one
# waiting for its post holds only its names; the bound keeps an interrupted
# import from leaving many stored objects without a row.
IMAGES_AHEAD = 8


class ImageStager:
    """Stages (validates, normalises and stores) the images an import will
    need, in the order it will need them; rows are saved by the caller's
    thread when a post takes its image, so failure semantics stay those of
    `image_create`."""

    def __init__(self, wanted: list[tuple[uuid.UUID, Path]]) -> None:
        self._queue = list(reversed(wanted))
        self._futures: dict[uuid.UUID, Future[StagedImage]] = {}
        self._pool = ThreadPoolExecutor(IMAGE_WORKERS, thread_name_prefix="import-img")

    def __enter__(self) -> ImageStager:
        self._fill()
        return self

    def __exit__(self, *exc: object) -> None:
        # Images staged but never taken (an interrupted import, or one
        # that another upload of the same UUID overtook) lose their objects.
        self._pool.shutdown(wait=True, cancel_futures=True)
        for future in self._futures.values():
            if future.cancelled() or future.exception() is not None:
                continue
            image_staged_discard(staged=future.result())
        self._futures.clear()

    def _fill(self) -> None:
        while self._queue and len(self._futures) < IMAGES_AHEAD:
            image_id, source = self._queue.pop()
            self._futures[image_id] = self._pool.submit(_stage_file, image_id, source)

    def take(self, image_id: uuid.UUID) -> StagedImage | None:
        """The staged image (None if it was never asked for); raises its
        ValidationError if it could not be staged."""
        future = self._futures.pop(image_id, None)
        self._fill()
        return None if future is None else future.result()


def _stage_file(image_id: uuid.UUID, source: Path) -> StagedImage:
    with source.open("rb") as handle:
        return image_stage(file=handle, image_id=image_id)


def ensure_image(
    image_id: uuid.UUID,
    *,
    images_dir: Path | None,
    uploader: Any,
    stager: ImageStager | None = None,
) -> Image | None:
    """The image with this UUID, imported from `images_dir/<uuid>` if needed."""
    staged = stager.take(image_id) if stager is not None else None
    existing = Image.objects.filter(pk=image_id).first()
    if existing is not None:
        if staged is not None:
            image_staged_discard(staged=staged)
        return existing
    if staged is not None:
        # The same bytes already stored under another UUID come back as that
        # image; the caller then rewrites its references to it.
        return image_staged_save(staged=staged, uploader=uploader)
    source = _image_file(images_dir, image_id)
    if source is None:
        return None
    with source.open("rb") as handle:
        return image_create(file=handle, uploader=uploader, image_id=image_id)


def images_wanted(
    parsed: Iterable[ParsedPost], *, images_dir: Path | None
) -> list[tuple[uuid.UUID, Path]]:
    """The images the posts refer to that are not stored yet but have a file,
    in the order the posts use them first."""
    order: dict[uuid.UUID, None] = {}
    for post in parsed:
        for image_id in [post.thumbnail, *rendering.image_ids_in(post.body)]:
            if image_id is not None:
                order.setdefault(image_id, None)
    ids = list(order)
    known: set[uuid.UUID] = set()
    for start in range(0, len(ids), 500):
        known.update(
            Image.objects.filter(pk__in=ids[start : start + 500]).values_list(
                "pk", flat=True
            )
        )
    wanted = []
    for image_id in ids:
        source = None if image_id in known else _image_file(images_dir, image_id)
        if source is not None:
            wanted.append((image_id, source))
    return wanted


@dataclass
class ImportMemo:
    """Images and categories that earlier posts of this run found or made,
    so that later posts skip looking them up again.

    A post's finds are kept only once its transaction commits: a post that
    fails rolls back the rows it created, and the next post that needs them
    must look them up (and make them) again.
    """

    images: dict[uuid.UUID, Image] = field(default_factory=dict)
    categories: dict[str, Category] = field(default_factory=dict)

    def keep_after_commit(
        self, *, images: dict[uuid.UUID, Image], category: Category, name: str
    ) -> None:
        def keep() -> None:
            self.images.update(images)
            self.categories[name] = category

        transaction.on_commit(keep)


def import_post(
    parsed: ParsedPost,
    *,
    author: Any,
    images_dir: Path | None,
    path: Path,
    report: ImportReport,
    stager: ImageStager | None = None,
    memo: ImportMemo | None = None,
) -> Post:
    """Create or update (matched by slug, then title) one parsed post."""
    memo = memo if memo is not None else ImportMemo()
    user_model = get_user_model()
    if parsed.author:
        author = user_model.objects.filter(username=parsed.author).first() or author
    found: dict[uuid.UUID, Image | None] = {}
    for image_id in [parsed.thumbnail, *rendering.image_ids_in(parsed.body)]:
        if image_id is None or image_id in found:
            continue
        if image_id in memo.images:
            found[image_id] = memo.images[image_id]
            continue
        try:
            found[image_id] = ensure_image(
                image_id, images_dir=images_dir, uploader=author, stager=stager
            )
        except ValidationError as exc:
            found[image_id] = None
            report.warnings.append(
                (path, f"image {image_id}: {'; '.join(exc.messages)}")
            )
            continue
        if found[image_id] is None:
            report.warnings.append((path, f"image {image_id} not found"))
    for old, image in found.items():
        if image is not None and image.pk != old:
            parsed.body = parsed.body.replace(f"/images/{old}", f"/images/{image.pk}")
    thumbnail = found.get(parsed.thumbnail) if parsed.thumbnail else None
    category = memo.categories.get(parsed.category) or services.category_get_or_create(
        name=parsed.category
    )
    memo.keep_after_commit(
        images={key: image for key, image in found.items() if image is not None},
        category=category,
        name=parsed.category,
    )
    status = Post.Status.PUBLISHED if parsed.published else Post.Status.DRAFT
    published_at = parsed.published_at or (
        parsed.created_at if parsed.published else None
    )
    # One query: the post with this slug, else the one with this title (the
    # database compares, so its collation decides what "the same" means).
    existing = (
        Post.objects.filter(Q(slug=parsed.slug) | Q(title=parsed.title))
        .alias(by_title=Case(When(slug=parsed.slug, then=Value(0)), default=Value(1)))
        .order_by("by_title")
        .first()
    )
    if existing is None:
        post = services.post_create(
            author=author,
            title=parsed.title,
            slug=parsed.slug,
            body=parsed.body,
            category=category,
            summary=parsed.summary,
            thumbnail=thumbnail,
            tags=parsed.tags,
            status=status,
            published_at=published_at,
            created_at=parsed.created_at,
            updated_at=parsed.updated_at,
            known_images=[image for image in found.values() if image is not None],
        )
        report.created.append(post)
        return post
    post = services.post_update(
        post=existing,
        data={
            "title": parsed.title,
            "slug": parsed.slug,
            "body": parsed.body,
            "category": category,
            "summary": parsed.summary,
            "thumbnail": thumbnail,
            "tags": parsed.tags,
            "status": status,
            "published_at": published_at,
            "created_at": parsed.created_at,
            "updated_at": parsed.updated_at,
        },
        comment="Imported.",
    )
    report.updated.append(post)
    return post


def posts_import(
    paths: Iterable[Path],
    *,
    author: Any,
    images_dir: Path | None = None,
    progress: Any = None,
) -> ImportReport:
    """Import every file; a bad file is recorded in the report and skipped."""
    report = ImportReport()
    files = markdown_files(paths)
    parsed: list[ParsedPost | ImportFileError] = []
    for path in files:
        try:
            parsed.append(parse_post_file(path))
        except ImportFileError as exc:
            parsed.append(exc)
    wanted = images_wanted(
        (p for p in parsed if isinstance(p, ParsedPost)), images_dir=images_dir
    )
    memo = ImportMemo()
    bodies = (post.body for post in parsed if isinstance(post, ParsedPost))
    with (
        # One content-version bump for the whole run, not several per post.
        content_changes_batched(),
        ImageStager(wanted) as stager,
        rendering.rendered_ahead(bodies),
    ):
        pairs = list(zip(files, parsed, strict=True))
        for path, post in progress(pairs) if progress else pairs:
            try:
                if isinstance(post, ImportFileError):
                    raise post
                with transaction.atomic():
                    import_post(
                        post,
                        author=author,
                        images_dir=images_dir,
                        path=path,
                        report=report,
                        stager=stager,
                        memo=memo,
                    )
            except ImportFileError as exc:
                report.failed.append((path, str(exc)))
            except ValidationError as exc:
                report.failed.append((path, "; ".join(_validation_messages(exc))))
    return report


def _validation_messages(exc: ValidationError) -> Iterator[str]:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            for message in errors:
                yield f"{name}: {message}"
    else:
        yield from exc.messages


def _quoted(value: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


def _format_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime(TIMESTAMP_FORMAT)


def export_text(post: Post) -> str:
    """The post as the source blog stores it, plus the optional keys."""
    lines = ["---", "layout: post"]
    if post.thumbnail_id:
        lines.append(f"thumbnail: {post.thumbnail_id}")
    lines += [
        f"title: {_quoted(post.title)}",
        f"createdAt: {_format_time(post.created_at)}",
        f"updatedAt: {_format_time(post.updated_at)}",
        f"category: {_quoted(post.category.name)}",
        f"slug: {_quoted(post.slug)}",
        f"author: {_quoted(post.author.get_username())}",
        f"published: {'true' if post.status == Post.Status.PUBLISHED else 'false'}",
    ]
    if post.published_at:
        lines.append(f"publishedAt: {_format_time(post.published_at)}")
    tags = sorted(tag.name for tag in post.tags.all())
    if tags:
        lines.append(f"tags: [{', '.join(_quoted(t) for t in tags)}]")
    derived = rendering.derive_summary(post.body_html)
    if post.summary and post.summary != derived:
        lines.append(f"summary: {_quoted(post.summary)}")
    lines.append("---")
    return "\n".join(lines) + "\n" + post.body.rstrip("\n") + "\n"


def export_filename(post: Post) -> str:
    return f"{post.created_at.astimezone(dt.UTC):%Y-%m-%d}-{post.slug}.md"


def posts_export(
    directory: Path, *, images_dir: Path | None = None, progress: Any = None
) -> tuple[int, int]:
    """Write every post (drafts too) and, if asked, their images; returns counts."""
    directory.mkdir(parents=True, exist_ok=True)
    posts = list(
        Post.objects.select_related("category", "author")
        .prefetch_related("tags")
        .order_by("created_at", "pk")
    )
    image_ids: dict[uuid.UUID, None] = {}
    for post in progress(posts) if progress else posts:
        (directory / export_filename(post)).write_text(
            export_text(post), encoding="utf-8"
        )
        if post.thumbnail_id:
            image_ids.setdefault(post.thumbnail_id, None)
        for image_id in rendering.image_ids_in(post.body):
            image_ids.setdefault(image_id, None)
    written = 0
    if images_dir is not None:
        images_dir.mkdir(parents=True, exist_ok=True)
        for image in Image.objects.filter(pk__in=list(image_ids)):
            with image.file.open("rb") as source:
                (images_dir / str(image.pk)).write_bytes(source.read())
            written += 1
    return len(posts), written
