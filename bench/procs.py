"""The processes a benchmark run starts, each on a free loopback port.

Every process runs in its own session so that stopping it stops its
children too, and writes its output to a log under the run's work folder
(printed when a process fails to start).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.services import free_port, wait_for_port

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@dataclass
class Proc:
    """A server subprocess listening on 127.0.0.1:port."""

    name: str
    cmd: list[str]
    port: int
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path = REPO
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError(f"{self.name} was never started")
        return self.process.pid

    def start(self, timeout: float = 60.0, ready_path: str | None = None) -> Proc:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.cmd,
            env={**os.environ, **self.env},
            cwd=self.cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if not wait_for_port("127.0.0.1", self.port, timeout):
            self.stop()
            raise RuntimeError(f"{self.name} did not start:\n{self.log_tail()}")
        if ready_path is not None:
            self._wait_http(ready_path, timeout)
        return self

    def _wait_http(self, path: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + path, timeout=5) as answer:  # noqa: S310 - loopback
                    if answer.status < 500:
                        return
            except urllib.error.HTTPError as exc:
                if exc.code < 500:
                    return
                last = f"HTTP {exc.code}"
            except OSError as exc:
                last = str(exc)
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(
            f"{self.name} never answered {path} ({last}):\n{self.log_tail()}"
        )

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self, timeout: float = 15.0) -> None:
        if not self.process or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


def daphne(
    name: str,
    app: str,
    env: dict[str, str],
    workdir: Path,
    *,
    serve: bool = False,
    access_log: bool = True,
) -> Proc:
    """daphne's own command, or with `serve` the blog's launcher as the
    Dockerfile runs it (`python -m blog_site.serve`, no access log unless asked).
    `access_log=False` runs plain daphne without its access log (`-v 0`)."""
    port = free_port()
    if serve:
        launcher = [sys.executable, "-m", "blog_site.serve"]
    else:
        launcher = [str(BIN / "daphne"), *([] if access_log else ["-v", "0"])]
    return Proc(
        name=name,
        cmd=[*launcher, "-b", "127.0.0.1", "-p", str(port), app],
        port=port,
        env=env,
        log_path=workdir / f"{name}.log",
    )


def uvicorn(name: str, app: str, env: dict[str, str], workdir: Path) -> Proc:
    port = free_port()
    return Proc(
        name=name,
        cmd=[
            str(BIN / "uvicorn"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--lifespan",
            "off",
            "--no-access-log",
            "--log-level",
            "warning",
            app,
        ],
        port=port,
        env=env,
        log_path=workdir / f"{name}.log",
    )


def granian(name: str, app: str, env: dict[str, str], workdir: Path) -> Proc:
    port = free_port()
    return Proc(
        name=name,
        cmd=[
            str(BIN / "granian"),
            "--interface",
            "asginl",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--loop",
            "uvloop",
            "--log-level",
            "warning",
            app,
        ],
        port=port,
        env=env,
        log_path=workdir / f"{name}.log",
    )


def nginx_binary() -> str:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if not found:
        raise RuntimeError(
            "nginx not found: run scripts/bench.sh (installs Debian's nginx)"
        )
    return found


def nginx_static(body_file: Path, workdir: Path) -> Proc:
    """nginx with one worker answering every path with the same file's bytes."""
    root = workdir / "nginx"
    root.mkdir(exist_ok=True)
    root.chmod(0o755)
    workdir.chmod(0o755)
    page = root / "page.html"
    shutil.copyfile(body_file, page)
    page.chmod(0o644)
    port = free_port()
    conf = root / "nginx.conf"
    conf.write_text(
        textwrap.dedent(
            f"""\
            worker_processes 1;
            daemon off;
            pid {root}/nginx.pid;
            error_log {root}/error.log warn;
            events {{ worker_connections 1024; }}
            http {{
                access_log off;
                sendfile on;
                tcp_nopush on;
                keepalive_requests 1000000;
                client_body_temp_path {root}/body;
                proxy_temp_path {root}/proxy;
                fastcgi_temp_path {root}/fastcgi;
                uwsgi_temp_path {root}/uwsgi;
                scgi_temp_path {root}/scgi;
                server {{
                    listen 127.0.0.1:{port};
                    root {root};
                    location / {{
                        default_type "text/html; charset=utf-8";
                        try_files /page.html =404;
                    }}
                }}
            }}
            """
        )
    )
    return Proc(
        name="nginx",
        cmd=[
            nginx_binary(),
            "-p",
            str(root),
            "-e",
            str(root / "error.log"),
            "-c",
            str(conf),
        ],
        port=port,
        log_path=workdir / "nginx.log",
    )
