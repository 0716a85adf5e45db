from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command

REPO_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO_ROOT / "test-artifacts"


@pytest.fixture(scope="session", autouse=True)
def s3_bucket() -> str:
    """The test bucket exists and is private before any test stores a file."""
    call_command("ensure_bucket")
    return settings.S3_BUCKET


@pytest.fixture
def s3_client() -> Any:
    from media_store.storage import internal_client

    return internal_client()


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def clear_cache() -> Iterator[None]:
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def live_env(db_name: str, **extra: str) -> dict[str, str]:
    """Environment for a daphne subprocess that shares the test database."""
    import os

    base = os.environ.get("DATABASE_URL", "mysql://root@127.0.0.1:3306/bdg_blog")
    db_url = base.rsplit("/", 1)[0] + "/" + db_name
    return {
        "DJANGO_SETTINGS_MODULE": "blog_site.settings.test",
        "DATABASE_URL": db_url,
        **extra,
    }


@pytest.fixture
def live_daphne(transactional_db: None) -> Iterator[Any]:
    """A daphne process on a free port, reading the (committed) test database."""
    from tests.services import DaphneServer

    server = DaphneServer(env=live_env(settings.DATABASES["default"]["NAME"]))
    server.start()
    yield server
    server.stop()
