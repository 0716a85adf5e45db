"""A site on a throwaway MariaDB for fault and backup drills.

The test process's own Django is bound to the shared test database, so the
drill's site (migrations, content, writers) runs in subprocesses whose
DATABASE_URL points at the drill's mariadbd:

    python -m tests.drills seed POSTS      # author with a token, room, posts+images
    python -m tests.drills write STOPFILE  # posts and chat messages until STOPFILE
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
AUTHOR = "drill-author"
PASSWORD = "pw-for-drills-123"
ROOM = "drill"


def drill_env(database_url: str, **extra: str) -> dict[str, str]:
    """Environment for a subprocess of the site on the drill's database."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "blog_site.settings.test",
        "DATABASE_URL": database_url,
        **extra,
    }


def manage(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    """Run manage.py with `env`; returns stdout, raises with the output on failure."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"manage.py {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result.stdout


def run_module(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "tests.drills", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise AssertionError(f"tests.drills {args} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def _png(n: int) -> bytes:
    from PIL import Image as PILImage

    out = io.BytesIO()
    # Wide enough for renditions, so a post's image is several objects.
    PILImage.new("RGB", (1000, 500), (n * 37 % 256, n * 91 % 256, 120)).save(out, "PNG")
    return out.getvalue()


def _author() -> Any:
    from django.contrib.auth.models import Group

    from accounts.models import User

    author = User.objects.filter(username=AUTHOR).first()
    if author is None:
        author = User.objects.create_user(
            username=AUTHOR, email="drill@example.org", password=PASSWORD
        )
        author.groups.add(Group.objects.get(name="Authors"))
    return author


def seed(posts: int) -> None:
    from rest_framework.authtoken.models import Token

    from media_store.services import image_create
    from media_store.storage import ensure_bucket, is_s3
    from posts.models import Post
    from posts.services import category_get_or_create, post_create
    from talk.models import Room

    if is_s3():
        ensure_bucket()
    author = _author()
    token, _ = Token.objects.get_or_create(user=author)
    Room.objects.get_or_create(slug=ROOM, defaults={"name": ROOM})
    category = category_get_or_create(name="드릴")
    for n in range(posts):
        image = image_create(file=_png(n), alt=f"그림 {n}", uploader=author)
        post_create(
            author=author,
            title=f"드릴 글 {n}",
            body=f"# 본문 {n}\n\n{image.markdown}\n",
            category=category,
            thumbnail=image,
            status=Post.Status.PUBLISHED,
        )
    print(token.key)


def write(stop: Path) -> None:
    """Posts and chat messages, one after another, until `stop` exists."""
    from posts.models import Post
    from posts.services import category_get_or_create, post_create
    from talk.models import Room
    from talk.services import chat_message_create

    author = _author()
    room = Room.objects.get(slug=ROOM)
    category = category_get_or_create(name="드릴")
    n = 0
    while not stop.exists():
        post_create(
            author=author,
            title=f"백업 중에 쓴 글 {n} {time.monotonic_ns()}",
            body="백업이 도는 동안 쓴 글",
            category=category,
            status=Post.Status.PUBLISHED,
        )
        chat_message_create(
            room=room, name="드릴", text=f"백업 중 {n}", session_hash="d" * 64,
            ip_hash="",
        )  # fmt: skip
        n += 1
    print(n)


if __name__ == "__main__":
    import django

    sys.path.insert(0, str(REPO_ROOT))
    django.setup()
    if sys.argv[1] == "seed":
        seed(int(sys.argv[2]))
    elif sys.argv[1] == "write":
        write(Path(sys.argv[2]))
    else:
        raise SystemExit(f"unknown drill step {sys.argv[1]!r}")
