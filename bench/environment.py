"""The machine and software a run measured, for bench/results.json."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import subprocess
from importlib import metadata
from typing import Any

from bench.procs import REPO

PACKAGES = (
    "Django",
    "daphne",
    "channels",
    "channels-redis",
    "redis",
    "mysqlclient",
    "uvicorn",
    "uvloop",
    "granian",
    "websockets",
)


def _run(cmd: list[str]) -> str:
    try:
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (done.stdout + done.stderr).strip()


def cpu_model() -> str:
    try:
        text = open("/proc/cpuinfo", encoding="utf-8").read()  # noqa: SIM115
    except OSError:
        return platform.processor()
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    return match.group(1).strip() if match else platform.processor()


def memory_gib() -> float | None:
    try:
        for line in open("/proc/meminfo", encoding="utf-8"):  # noqa: SIM115
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def git_commit() -> dict[str, Any]:
    commit = _run(["git", "-C", str(REPO), "rev-parse", "HEAD"])
    dirty = bool(
        _run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"])
    )
    return {"commit": commit, "dirty": dirty}


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def collect(
    *, redis_version: str | None, mariadb_version: str | None
) -> dict[str, Any]:
    wrk_line = _run(["wrk", "--version"]).splitlines()
    return {
        "date_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": memory_gib(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "packages": package_versions(),
        "wrk": wrk_line[0] if wrk_line else None,
        "nginx": _run(["nginx", "-v"]).replace("nginx version: ", "") or None,
        "redis": redis_version,
        "mariadb": mariadb_version,
        "git": git_commit(),
        "loadavg_at_start": list(os.getloadavg()),
    }
