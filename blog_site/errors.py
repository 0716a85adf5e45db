"""Errors shared by the apps and the HTTP layers that answer them."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class ServiceUnavailable(ValidationError):
    """Something the request needs (the media storage) is down or too slow.

    It is a ValidationError so that forms and the admin show its message like
    any other error and save nothing; endpoints that speak status codes answer
    503 with Retry-After instead, because the input was fine and the same
    request will work once the service is back.
    """

    retry_after_seconds = 30
