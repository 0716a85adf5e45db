"""The only backup code that knows about MariaDB: option files, the dump's
snapshot, loading a dump, per-table row counts and checksums.

Credentials go to the client tools in a private option file, never on the
command line, where any local user could read them from the process list.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    connection,
    connections,
    transaction,
)

# How long the dump may take to open its snapshot while commits are held.
SNAPSHOT_TIMEOUT_SECONDS = 30
# The verbose line mariadb-dump prints just before START TRANSACTION; any
# line after it means its snapshot exists.
_STARTING_TRANSACTION = "Starting transaction"


class BackupError(Exception):
    """A backup or restore step failed; the message says which and why."""


@dataclass
class DumpInfo:
    path: Path
    tool: str
    server: str
    commits_held_ms: float = 0.0
    log: list[str] = field(default_factory=list)


def _settings() -> dict[str, Any]:
    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.mysql":
        raise BackupError(f"backups need MariaDB, not {db['ENGINE']}")
    return db


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} not found: install the mariadb-client package")
    return found


@contextmanager
def option_file() -> Iterator[Path]:
    """A mode-0600 [client] option file with the default database's credentials."""
    db = _settings()
    lines = ["[client]", f"user={db['USER'] or 'root'}"]
    if db["PASSWORD"]:
        lines.append(f"password={db['PASSWORD']}")
    host = db["HOST"] or "localhost"
    if host.startswith("/"):
        lines.append(f"socket={host}")
    else:
        lines += [f"host={host}", f"port={db['PORT'] or 3306}", "protocol=tcp"]
    lines.append("default-character-set=utf8mb4")
    fd, name = tempfile.mkstemp(prefix="bdg-backup-", suffix=".cnf")
    try:
        with os.fdopen(fd, "w") as out:  # mkstemp creates it mode 0600
            out.write("\n".join(lines) + "\n")
        yield Path(name)
    finally:
        os.unlink(name)


def _version(tool: str) -> str:
    return subprocess.run(  # noqa: S603 - fixed argv
        [tool, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()


def _server_version() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT VERSION()")
        return cursor.fetchone()[0]


@contextmanager
def consistent_dump(path: Path) -> Iterator[DumpInfo]:
    """Dump the database into `path` with mariadb-dump --single-transaction.

    Inside the block, the default connection reads the very snapshot the dump
    is writing (so counts and checksums taken there describe the dump exactly)
    and refuses writes. To line the two snapshots up, commits are held with
    BACKUP STAGE BLOCK_COMMIT (needs RELOAD) only from just before this
    connection's snapshot until the dump has opened its own: milliseconds,
    during which writers wait and nothing fails.
    """
    db = _settings()
    dump_tool = _tool("mariadb-dump")
    info = DumpInfo(path=path, tool=_version(dump_tool), server=_server_version())
    control = connections.create_connection(DEFAULT_DB_ALIAS)
    with option_file() as options, path.open("wb") as out:
        command = [
            dump_tool,
            f"--defaults-extra-file={options}",
            "--single-transaction",
            "--routines",
            "--triggers",
            "--hex-blob",
            "--default-character-set=utf8mb4",
            "--no-tablespaces",
            "--skip-dump-date",
            "--verbose",
            db["NAME"],
        ]
        snapshot_open = threading.Event()
        process: subprocess.Popen[str] | None = None
        with transaction.atomic():
            try:
                with control.cursor() as held:
                    held.execute("SET SESSION lock_wait_timeout = 30")
                    _hold_commits(held, db["USER"])
                    started = time.monotonic()
                    with connection.cursor() as cursor:
                        cursor.execute(
                            "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"
                        )
                        cursor.execute(
                            "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"
                        )
                    process = subprocess.Popen(  # noqa: S603 - fixed argv
                        command, stdout=out, stderr=subprocess.PIPE, text=True
                    )
                    reader = threading.Thread(
                        target=_read_log,
                        args=(process, info.log, snapshot_open),
                        daemon=True,
                    )
                    reader.start()
                    opened = snapshot_open.wait(SNAPSHOT_TIMEOUT_SECONDS)
                    held.execute("BACKUP STAGE END")
                    info.commits_held_ms = round((time.monotonic() - started) * 1000, 1)
                if not opened:
                    raise BackupError(
                        "mariadb-dump did not open its snapshot:\n"
                        + "\n".join(info.log[-20:])
                    )
                yield info
                if process.wait() != 0:
                    raise BackupError(
                        f"mariadb-dump failed ({process.returncode}):\n"
                        + "\n".join(info.log[-20:])
                    )
                reader.join(5)
            finally:
                if process is not None and process.poll() is None:
                    process.kill()
                    process.wait()
                control.close()


def _hold_commits(cursor: Any, user: str) -> None:
    try:
        cursor.execute("BACKUP STAGE START")
        cursor.execute("BACKUP STAGE BLOCK_COMMIT")
    except DatabaseError as exc:
        raise BackupError(
            f"could not hold commits ({exc}); the backup user needs the RELOAD "
            f"privilege: GRANT RELOAD ON *.* TO '{user}'@'%'"
        ) from exc


def _read_log(
    process: subprocess.Popen[str], log: list[str], snapshot_open: threading.Event
) -> None:
    starting = False
    if process.stderr is None:
        return
    for line in process.stderr:
        log.append(line.rstrip())
        if starting:
            snapshot_open.set()
        starting = starting or _STARTING_TRANSACTION in line
    # The dump ended (or failed) before saying more: wake the waiter anyway;
    # it then sees the failure from the exit status.
    if starting:
        snapshot_open.set()


def table_stats() -> dict[str, dict[str, int]]:
    """Row count and CHECKSUM TABLE of every base table, as the connection sees them."""
    stats: dict[str, dict[str, int]] = {}
    with connection.cursor() as cursor:
        cursor.execute("SHOW FULL TABLES WHERE Table_type = 'BASE TABLE'")
        tables = sorted(row[0] for row in cursor.fetchall())
        for table in tables:
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT COUNT(*) FROM {quoted}")  # noqa: S608 - a table name from SHOW TABLES
            rows = cursor.fetchone()[0]
            cursor.execute(f"CHECKSUM TABLE {quoted}")
            stats[table] = {"rows": rows, "checksum": cursor.fetchone()[1]}
    return stats


def database_is_empty() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = DATABASE()"
        )
        return cursor.fetchone()[0] == 0


def load(path: Path) -> None:
    """Run a dump file into the default database with the mariadb client."""
    db = _settings()
    client = _tool("mariadb")
    connection.close()  # the dump replaces tables this connection may cache
    with option_file() as options, path.open("rb") as dump:
        result = subprocess.run(  # noqa: S603 - fixed argv
            [client, f"--defaults-extra-file={options}", "--batch", db["NAME"]],
            stdin=dump,
            capture_output=True,
            check=False,
        )
    if result.returncode != 0:
        raise BackupError(
            "loading the dump failed: " + result.stderr.decode(errors="replace")[-2000:]
        )


def server_version() -> str:
    return _server_version()
