"""Close an ASGI request's database connections when the request ends.

Under ASGI, Django runs each request's synchronous code in a thread of its
own (one per request context), and database connections belong to threads.
A connection kept for reuse (CONN_MAX_AGE > 0) is therefore never reused: it
stays open on a finished thread until MariaDB refuses new ones ("Too many
connections" within seconds of load, issue 8). Closing them at the end of
each HTTP request fixes that, while Channels consumers, whose database calls
run on a long-lived worker thread, keep reusing theirs as CONN_MAX_AGE says.
"""

from __future__ import annotations

from typing import Any

from django.core.handlers.asgi import ASGIHandler
from django.core.signals import request_finished
from django.db import connections


def close_request_connections(**kwargs: Any) -> None:
    """Close this thread's connections, unless a transaction still holds one."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()


def close_connections_after_each_request() -> None:
    request_finished.connect(
        close_request_connections,
        sender=ASGIHandler,
        dispatch_uid="bdg-close-asgi-request-connections",
    )
