"""Conditional GET for API views.

ETags and 304 answers come from Django's ConditionalGetMiddleware, which
hashes every rendered GET response; views here add `Last-Modified` from the
newest `updated_at` they return, so clients can use either validator.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.utils.http import http_date


def set_last_modified(response: Any, stamps: Iterable[datetime | None]) -> Any:
    newest = max((stamp for stamp in stamps if stamp is not None), default=None)
    if newest is not None and response.status_code == 200:
        response["Last-Modified"] = http_date(newest.timestamp())
    return response
