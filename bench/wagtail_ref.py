"""The Wagtail reference rows: a minimal Wagtail blog in its own virtualenv.

bench/wagtail_site is a `wagtail start`-style site with one page type that
shows what bdg-blog's post page shows (title, date, category, stored body,
previous/next in the category). The measured page carries the captured
bdg-blog page's head and body, so both sides send the same content. It runs
under daphne like the blog, on its own database on the same MariaDB and on
the same Redis, once plain and once with wagtail-cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.procs import REPO, Proc
from tests.services import free_port

BENCH = REPO / "bench"
# At the top of the repository, outside the packages that linters and
# bandit scan.
VENV = REPO / ".venv-wagtail"
REQUIREMENTS = BENCH / "requirements-wagtail.txt"


def ensure_venv(log: Callable[[str], None]) -> Path:
    """.venv-wagtail with bench/requirements-wagtail.txt installed."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:16]
    stamp = VENV / f".installed-{digest}"
    python = VENV / "bin" / "python"
    if not stamp.exists():
        log(f"creating {VENV.relative_to(REPO)} for the Wagtail reference")
        if not python.exists():
            subprocess.run(["python3", "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "-r",
                str(REQUIREMENTS),
            ],
            check=True,
        )
        for old in VENV.glob(".installed-*"):
            old.unlink()
        stamp.touch()
    return python


def _env(base: dict[str, str], **extra: str) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "wagtail_site.settings",
        "SECRET_KEY": base["SECRET_KEY"],
        "DATABASE_URL": base["DATABASE_URL"],
        "REDIS_URL": base["REDIS_URL"],
        "PYTHONPATH": str(BENCH),
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def _manage(python: Path, env: dict[str, str], *args: str) -> str:
    # The app's own variables (DJANGO_SETTINGS_MODULE, PYTHONPATH...) must not leak in.
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTHON"))
    }
    done = subprocess.run(
        [str(python), str(BENCH / "wagtail_site" / "manage.py"), *args],
        cwd=BENCH,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"wagtail manage.py {args[0]} failed:\n{done.stdout}\n{done.stderr[-3000:]}"
        )
    return done.stdout.strip()


QUERIES_SCRIPT = """
import json, sys
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
client = Client(HTTP_HOST="127.0.0.1")
client.get(sys.argv[-1])
with CaptureQueriesContext(connection) as c:
    r = client.get(sys.argv[-1])
print(json.dumps({"status": r.status_code, "queries": len(c.captured_queries)}))
"""


def start(
    cfg: Any,
    app_env: dict[str, str],
    page_file: Path,
    work: Path,
    procs: list[Proc],
    log: Callable[[str], None],
) -> tuple[dict[str, Proc], str, dict[str, Any]]:
    """Servers `wagtail-uncached` and `wagtail-cached`, the page path, and facts."""
    from bench.run import recreate_database

    python = ensure_venv(log)
    db_url = cfg.db_url("_wagtail")
    # Wagtail's own migrations compare text columns with CAST(... AS char),
    # which takes the connection's default collation: keep the two the same.
    recreate_database(db_url, collation="utf8mb4_general_ci")
    env = _env({**app_env, "DATABASE_URL": db_url})
    _manage(python, env, "migrate", "--noinput")
    path = _manage(
        python, env, "load_bench_pages", "--page", str(page_file)
    ).splitlines()[-1]
    facts: dict[str, Any] = {"path": path, "database": db_url.rsplit("/", 1)[1]}
    try:
        counted = _manage(
            python,
            {**env, "WAGTAIL_CACHE": "false"},
            "shell",
            "-c",
            QUERIES_SCRIPT.replace("sys.argv[-1]", repr(path)),
        )
        facts["queries"] = json.loads(counted.splitlines()[-1])
    except RuntimeError as exc:
        facts["queries_error"] = str(exc)[:500]
    servers = {}
    for name, cached in (("wagtail-uncached", "false"), ("wagtail-cached", "true")):
        port = free_port()
        proc = Proc(
            name=name,
            cmd=[
                str(VENV / "bin" / "daphne"),
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "wagtail_site.asgi:application",
            ],
            port=port,
            env={**env, "WAGTAIL_CACHE": cached},
            cwd=BENCH,
            log_path=work / f"{name}.log",
        )
        procs.append(proc.start(ready_path=path))
        servers[name] = proc
    log(f"Wagtail reference on {path}: {facts.get('queries')}")
    return servers, path, facts
