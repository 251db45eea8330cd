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


OBJECT_ID_PATTERN = r"^[0-9a-fA-F]{24}$"
# What a CharField refuses, as schema patterns (shopsite.openapi.ShopAutoSchema): a NUL character
# (DRF's ProhibitNullCharactersValidator; PostgreSQL's jsonb, under FerretDB, cannot store one).
NO_NUL_PATTERN = r"^[^\u0000]*$"
# The whitespace str.strip() drops, spelled out: `\s` reads differently in JSON Schema (ECMA), in
# Python and under re.ASCII (what a fuzzer may use).
_WHITESPACE = (
    r"\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
)
# No NUL, and a character str.strip() keeps: a trimmed field that may not be blank.
NOT_BLANK_PATTERN = rf"^[^\u0000]*[^\u0000{_WHITESPACE}][^\u0000]*$"


class StrictCharField(serializers.CharField):
    """A JSON string. Surrounding whitespace is trimmed (unless trim_whitespace=False), so what
    the schema says holds for the string as sent: max_length counts it before trimming (the
    schema's pattern for blank and NUL: shopsite.openapi.ShopAutoSchema)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
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


@extend_schema_field({"type": "string", "pattern": OBJECT_ID_PATTERN})
class ObjectIdField(StrictCharField):
    """24 hexadecimal characters, not trimmed. The schema's pattern read as Python reads it (what
    schemathesis generates from) also allows one trailing newline: accepted and dropped."""

    default_error_messages = {"invalid": "Must be a 24-character hexadecimal id."}
    _pattern = re.compile(OBJECT_ID_PATTERN)

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not self._pattern.search(value):
            self.fail("invalid")
        return value[:24].lower()


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
