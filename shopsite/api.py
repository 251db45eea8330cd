"""Shared pieces of every app's JSON edge: the error shapes, strict fields, DomainError.

A service raises a `DomainError` subclass; `shopsite.errors.api_exception_handler` (the one DRF
exception handler) turns it into HTTP for every app, so no view catches a domain error.

Strict fields: a JSON value of the wrong type is a 400, never coerced (so `{"$gt": ""}` or
`123` cannot stand in for a string, and `"5"` does not pass as an integer).
"""

import re

from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers

from shopsite.timeutil import as_utc, iso


class DomainError(Exception):
    """A rule of the domain said no. `status_code` is its HTTP answer; `extra()` adds fields
    to the `{"detail"}` body; `retry_after` (seconds) adds a Retry-After header; `errors`
    (by field, shaped like the request body) makes it a validation error (400 with `errors`)."""

    status_code = 400
    retry_after: int | None = None
    errors = None

    def __init__(self, detail: str = ""):
        super().__init__(detail)

    @property
    def detail(self) -> str:
        return str(self)

    def extra(self) -> dict:
        return {}

    def headers(self) -> dict:
        return {"Retry-After": str(self.retry_after)} if self.retry_after else {}


class NotFoundError(DomainError):
    status_code = 404


class ConflictError(DomainError):
    status_code = 409


class BusyError(DomainError):
    """Valid request, nothing written, retry shortly (a lock or a slow step)."""

    status_code = 503
    retry_after = 1


# The error bodies, declared once: components of the served schema (shopsite.openapi adds them).
ERROR_DETAIL_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "errors": {
            "description": "Messages by field; for a list body, a list aligned with the input "
            "(an item that is not an object gets its own list of messages).",
            "oneOf": [
                {"type": "object"},
                {
                    "type": "array",
                    "items": {
                        "oneOf": [
                            {"type": "object"},
                            {"type": "array", "items": {"type": "string"}},
                        ]
                    },
                },
            ],
        },
    },
    "required": ["detail"],
}
ERROR = {"$ref": "#/components/schemas/ErrorDetail"}
VALIDATION_ERROR = {"$ref": "#/components/schemas/ValidationError"}
# Bad input, no credentials, a role that does not allow it: for an operation's `responses`.
COMMON_ERRORS = {400: VALIDATION_ERROR, 401: ERROR, 403: ERROR}


def error_response(description: str) -> OpenApiResponse:
    """A `{"detail"}` answer documented with what it means for this operation."""
    return OpenApiResponse(ERROR, description=description)


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class ObjectIdField(StrictCharField):
    default_error_messages = {"invalid": "Must be a 24-character hexadecimal id."}
    _pattern = re.compile(r"^[0-9a-fA-F]{24}$")

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not self._pattern.match(value):
            self.fail("invalid")
        return value.lower()


class StrictDateTimeField(serializers.DateTimeField):
    """ISO 8601 string only; naive means UTC (TIME_ZONE is UTC)."""

    def to_internal_value(self, value):
        if not isinstance(value, str):
            self.fail("invalid", format="ISO 8601")
        return as_utc(super().to_internal_value(value))


@extend_schema_field({"type": "string", "format": "date-time", "example": "2026-11-27T05:00:00Z"})
class UtcDateTimeField(serializers.DateTimeField):
    """Out: ISO 8601 UTC with a Z, millisecond precision (as stored)."""

    def to_representation(self, value):
        return iso(value)
