"""Whether this process is shutting down (set by `blog_site.serve` on SIGTERM).

A module of its own so that the health probe can read it without importing
the launcher, which installs Twisted's reactor on import.
"""

from __future__ import annotations

import threading

_draining = threading.Event()


def draining_start() -> None:
    """Mark the process as draining: /readyz answers 503 from now on."""
    _draining.set()


def draining_stop() -> None:
    """Back to serving (only tests need this)."""
    _draining.clear()


def is_draining() -> bool:
    return _draining.is_set()
