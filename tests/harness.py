"""pytest plugin (loaded with `-p tests.harness`): the real services.

It runs before pytest-django imports the settings, so the S3 server's
address is in the environment when `blog_site.settings.test` reads it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Generator
from urllib.parse import urlsplit

import pytest

from tests.services import S3Server, new_s3_server, tcp_reachable

_server: S3Server | None = None


def _require(name: str, url: str, default_port: int, how: str) -> None:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or default_port
    if not tcp_reachable(host, port):
        pytest.exit(
            f"{name} is not reachable at {host}:{port}. Start it first: {how}",
            returncode=3,
        )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> Generator[None, None, None]:
    global _server
    _require(
        "MariaDB",
        os.environ.get("DATABASE_URL", "mysql://root@127.0.0.1:3306/"),
        3306,
        "start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd",
    )
    _require(
        "Redis",
        os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        6379,
        "redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save ''",
    )
    _server = new_s3_server()
    _server.start()
    os.environ.update(_server.env())
    return (yield)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _server is not None:
        _server.stop()
        shutil.rmtree(_server.data_dir, ignore_errors=True)


def s3_server() -> S3Server:
    assert _server is not None, "the harness did not start the S3 server"
    return _server
