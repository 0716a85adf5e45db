"""Fixtures for posts: users in the Authors/Editors groups, the seed post, images."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from PIL import Image as PILImage
from PIL import ImageDraw

from tests.posts.factories import UserFactory

REPO_ROOT = Path(__file__).resolve().parents[2]
SEED_FILE_NAME = "2023-07-31-on-premise-blog-bdg-blog.md"
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def seed_dir() -> Path:
    """The shared seed posts: beside the clone, or where BDG_SEED_DIR says."""
    configured = os.environ.get("BDG_SEED_DIR")
    # Beside the clone (CI); a git worktree sits one level deeper.
    candidates = (
        [Path(configured)]
        if configured
        else [parent / "shared" / "seed" for parent in REPO_ROOT.parents[:2]]
    )
    for folder in candidates:
        if (folder / SEED_FILE_NAME).is_file():
            return folder
    raise RuntimeError(
        f"The seed post {SEED_FILE_NAME} is missing from {candidates[0]}; put "
        "shared/ beside the clone or set BDG_SEED_DIR to the folder holding it."
    )


@pytest.fixture
def seed_path() -> Path:
    return seed_dir() / SEED_FILE_NAME


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def png_bytes(
    text: str = "", size: tuple[int, int] = (320, 180), hue: int = 0
) -> bytes:
    """A small diagram-like PNG; `hue` makes different images different bytes."""
    img = PILImage.new("RGB", size, (240, 244, 248))
    draw = ImageDraw.Draw(img)
    draw.rectangle(
        (10, 10, size[0] - 10, size[1] - 10), outline=(hue % 256, 90, 200), width=4
    )
    draw.text((20, 20), text or f"image {hue}", fill=(20, 20, 20))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def seed_images(tmp_path: Path, seed_path: Path) -> Path:
    """Files named by the seed post's image UUIDs (no extension), for --images."""
    folder = tmp_path / "images"
    folder.mkdir()
    ids = sorted(set(UUID_RE.findall(seed_path.read_text(encoding="utf-8"))))
    for n, image_id in enumerate(ids):
        (folder / image_id).write_bytes(png_bytes(image_id[:8], hue=n * 37 + 1))
    return folder


@pytest.fixture
def groups(db: None) -> None:
    """The groups exist (a transactional test's flush removes migration data)."""
    from posts.permissions import groups_ensure

    groups_ensure()


@pytest.fixture
def author(groups: None):  # type: ignore[no-untyped-def]
    user = UserFactory(username="writer", display_name="글쓴이", is_staff=True)
    user.groups.add(Group.objects.get(name="Authors"))
    return user


@pytest.fixture
def other_author(groups: None):  # type: ignore[no-untyped-def]
    user = UserFactory(username="someone", is_staff=True)
    user.groups.add(Group.objects.get(name="Authors"))
    return user


@pytest.fixture
def editor(groups: None):  # type: ignore[no-untyped-def]
    user = UserFactory(username="editor", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    return user


@pytest.fixture
def superuser(db: None):  # type: ignore[no-untyped-def]
    return UserFactory(username="root", is_staff=True, is_superuser=True)
