"""Shared OpenAPI pieces: the error responses every endpoint documents."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

_detail = inline_serializer("ErrorDetail", fields={"detail": serializers.CharField()})
_fields = inline_serializer(
    "FieldErrors",
    fields={
        "field_name": serializers.ListField(
            child=serializers.CharField(), help_text="Messages for each invalid field"
        )
    },
)


class _Errors(dict[int, OpenApiResponse]):
    def pick(self, *codes: int) -> dict[int, OpenApiResponse]:
        return {code: self[code] for code in codes}


ERRORS = _Errors(
    {
        400: OpenApiResponse(_fields, description="Invalid input: errors by field"),
        401: OpenApiResponse(_detail, description="Missing or invalid credentials"),
        403: OpenApiResponse(_detail, description="Not allowed for this user"),
        404: OpenApiResponse(_detail, description="No such object"),
        429: OpenApiResponse(_detail, description="Throttled; see Retry-After"),
    }
)
