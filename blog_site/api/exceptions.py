"""One error shape for the API: field errors on 400, never a bare 500 for bad
input, and 503 with Retry-After when a service the request needs is down."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from blog_site.errors import ServiceUnavailable


class _Unavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "service_unavailable"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus services' Django ValidationError mapped to a 400
    (a 503 for ServiceUnavailable)."""
    retry_after: float | None = None
    if isinstance(exc, ServiceUnavailable):
        retry_after = exc.retry_after_seconds
        exc = _Unavailable(" ".join(exc.messages), code=exc.code)
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if (
        response is not None
        and response.status_code == status.HTTP_429_TOO_MANY_REQUESTS
    ):
        retry_after = getattr(exc, "wait", None)
    if response is not None and retry_after is not None:
        response["Retry-After"] = str(max(1, int(retry_after + 0.999)))
    return response
