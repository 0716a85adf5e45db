"""Shared OpenAPI pieces: the error responses every endpoint documents."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

_detail = inline_serializer("ErrorDetail", fields={"detail": serializers.CharField()})
# Keys are the invalid fields (or `non_field_errors`); values are lists of
# messages, nested objects for list and nested fields, or one `detail`
# string for a body that could not be parsed. No key is required:
# which fields appear depends on the input.
_fields = {
    "type": "object",
    "description": "Messages for each invalid field",
    "additionalProperties": {
        "oneOf": [
            {"type": "array", "items": {"type": "string"}},
            {"type": "object"},
            {"type": "string"},
        ]
    },
}


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
        503: OpenApiResponse(
            _detail, description="The media storage is unavailable; see Retry-After"
        ),
    }
)
