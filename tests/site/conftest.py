"""Fixtures for the site experience: a small site with every public page kind."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

from posts.models import Post
from talk.models import Room
from tests.conftest import REPO_ROOT, live_env
from tests.posts.factories import UserFactory, make_category, make_post
from tests.services import DaphneServer

CODE_BODY = """첫 문단입니다. A first paragraph.

## 설치

```bash
pip install bdg-blog  # 한글 주석
```

### 하위 제목

![도표](/static/icons/icon-192.png)

끝.
"""


@dataclass
class SiteSample:
    post: Post
    urls: list[str]


def build_site_sample() -> SiteSample:
    """A published post with code, headings and a tag; every public page's URL."""
    author = UserFactory(username="writer", is_staff=True, is_superuser=True)
    category = make_category("쿠버네티스")
    post = make_post(
        author=author,
        title="한글 글 제목",
        body=CODE_BODY,
        category=category,
        tags=["k3s"],
    )
    # The lobby comes from a data migration, which a transactional test's
    # flush removes.
    Room.objects.get_or_create(
        slug=settings.TALK_DEFAULT_ROOM,
        defaults={"name": "로비", "description": "누구나 들어오는 방"},
    )
    urls = [
        "/",
        post.get_absolute_url(),
        category.get_absolute_url(),
        "/categories/",
        "/search/?q=%ED%95%9C%EA%B8%80",
        "/tags/k3s/",
        "/authors/writer/",
        "/talk/",
    ]
    return SiteSample(post=post, urls=urls)


@pytest.fixture
def site_sample(db: None) -> SiteSample:
    return build_site_sample()


# Production settings for a live server: DEBUG off, the manifest storage and
# whitenoise serving what collectstatic wrote. Plain http on the loopback
# (browsers and Lighthouse treat 127.0.0.1 as a secure origin), so no TLS
# redirect; everything else is as deployed.
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "blog_site.settings.base",
    "DEBUG": "false",
    "SECRET_KEY": "production-like-test-only-" + "p" * 40,
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "false",
}


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """collectstatic with the production storage (hashed names, gzip and
    brotli) into a temporary STATIC_ROOT, once per session."""
    if not (REPO_ROOT / "static/css/site.css").is_file():
        raise RuntimeError(
            "static/css/site.css is missing: scripts/setup.sh compiles static/scss"
        )
    root = tmp_path_factory.mktemp("staticfiles")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=REPO_ROOT,
        env={**os.environ, **PRODUCTION_ENV, "STATIC_ROOT": str(root)},
        check=True,
        timeout=300,
    )
    return root


@pytest.fixture
def production_daphne(
    transactional_db: None, collected_static: Path
) -> Iterator[DaphneServer]:
    """daphne with production settings, reading the (committed) test database.

    The shared page cache is emptied before and after: its pages link the
    hashed file names, which the test settings' storage does not know.
    """
    from django.core.cache import cache

    env = live_env(settings.DATABASES["default"]["NAME"])
    server = DaphneServer(
        env={**env, **PRODUCTION_ENV, "STATIC_ROOT": str(collected_static)}
    )
    cache.clear()
    server.start()
    yield server
    server.stop()
    cache.clear()


def fresh_css(source: str) -> bytes:
    """Compile one of static/scss's entry points now, as scripts/build_css.sh does."""
    sass = REPO_ROOT / "node_modules/.bin/sass"
    result = subprocess.run(
        [str(sass), "--no-source-map", "--style=compressed", f"static/scss/{source}"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    )
    return result.stdout
