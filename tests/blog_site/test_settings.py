"""Production settings: loud when misconfigured, clean under `check --deploy`."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

from tests.conftest import REPO_ROOT

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "blog_site.settings.base",
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "ALLOWED_HOSTS": "blog.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://blog.example.org",
    "SITE_URL": "https://blog.example.org",
    "DATABASE_URL": "mysql://root@127.0.0.1:3306/bdg_blog",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def _bare_env() -> dict[str, str]:
    """The process environment without any of the project's settings."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV")
    return {k: v for k, v in os.environ.items() if k in keep}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = _bare_env()
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key() -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_a_wildcard_host() -> None:
    result = _manage("check", env={**PRODUCTION_ENV, "ALLOWED_HOSTS": "*"})
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


def test_check_deploy_reports_nothing_under_production_settings() -> None:
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_debug_is_off_unless_asked_for() -> None:
    code = "from django.conf import settings; print(settings.DEBUG)"
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DEBUG"}
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=REPO_ROOT,
        env={**_bare_env(), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "False", result.stderr


def test_embedded_defaults_need_no_services() -> None:
    """With DEBUG on and nothing else set: SQLite, locmem, in-memory layer, disk."""
    code = (
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CACHES['default']['BACKEND'],"
        " s.CHANNEL_LAYERS['default']['BACKEND'], s.STORAGES['default']['BACKEND'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=REPO_ROOT,
        env={
            **_bare_env(),
            "DJANGO_SETTINGS_MODULE": "blog_site.settings.base",
            "DEBUG": "true",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "django.core.cache.backends.locmem.LocMemCache",
        "channels.layers.InMemoryChannelLayer",
        "django.core.files.storage.FileSystemStorage",
    ], result.stderr


def test_check_deploy_stays_clean_during_a_key_rotation() -> None:
    env = {**PRODUCTION_ENV, "SECRET_KEY_FALLBACKS": secrets.token_urlsafe(64)}
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_weak_fallback_key_is_reported() -> None:
    env = {**PRODUCTION_ENV, "SECRET_KEY_FALLBACKS": "short"}
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY_FALLBACKS" in result.stdout + result.stderr
