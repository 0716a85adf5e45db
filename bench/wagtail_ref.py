"""Wagtail reference servers (filled in below)."""

from __future__ import annotations

from typing import Any


def start(
    cfg: Any, body: bytes, work: Any, procs: list[Any], log: Any
) -> dict[str, Any]:
    return {}
