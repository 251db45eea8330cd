"""OpenAPI generation: the schema class (ShopAutoSchema) and the post-processing that documents
the error answers every operation can give.

Each API view documents its own success and domain errors; the ones that follow from the
shared machinery (authentication, validation, body limit, pagination, backend outages) are added
here once, so the schema is complete and consistent.
"""

from django.core.validators import ProhibitNullCharactersValidator, RegexValidator
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from shopsite.api import (
    ERROR_DETAIL_SCHEMA,
    NO_NUL_PATTERN,
    NOT_BLANK_PATTERN,
    VALIDATION_ERROR_SCHEMA,
)


class ShopAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, plus what DRF enforces and drf-spectacular leaves out of the
    schema: the bounds of a nested list (`many=True`: allow_empty, min_length, max_length), and
    as a pattern of a request's string (unless the field has its own) that it refuses NUL
    characters and, when trimmed and not allowed blank, whitespace only."""

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if (
            direction == "request"
            and schema
            and schema.get("type") == "string"
            and "pattern" not in schema
            and any(isinstance(v, ProhibitNullCharactersValidator) for v in field.validators)
            and not any(isinstance(v, RegexValidator) for v in field.validators)
        ):
            blank = getattr(field, "trim_whitespace", False) and not field.allow_blank
            schema["pattern"] = NOT_BLANK_PATTERN if blank else NO_NUL_PATTERN
        if isinstance(field, serializers.ListSerializer) and (schema or {}).get("type") == "array":
            least = max(field.min_length or 0, 0 if field.allow_empty else 1)
            if least:
                schema["minItems"] = least
            if field.max_length is not None:
                schema["maxItems"] = field.max_length
        return schema


COMMON = {
    "401": "No credentials, or an expired or unknown token.",
    "403": "Authenticated, but the role does not allow this.",
    "503": "A backend the operation needs is unavailable; `detail` names it.",
}


def _response(schema_name: str, description: str) -> dict:
    ref = {"$ref": f"#/components/schemas/{schema_name}"}
    return {"description": description, "content": {"application/json": {"schema": ref}}}


def _bulk_bodies_not_empty(result) -> None:
    """A body that is one object or a list of them: the list variant needs an element (the
    contract: an empty list is a 400), and the body itself is required; drf-spectacular writes
    neither for its polymorphic proxy."""
    schemas = result.get("components", {}).get("schemas", {})
    for ops in result.get("paths", {}).values():
        for op in ops.values():
            body = op.get("requestBody", {})
            for media in body.get("content", {}).values():
                ref = media.get("schema", {}).get("$ref", "")
                schema = schemas.get(ref.rsplit("/", 1)[-1], media.get("schema", {}))
                for variant in schema.get("oneOf", []):
                    if variant.get("type") == "array":
                        variant.setdefault("minItems", 1)
                        body["required"] = True  # one object or a list: never nothing


def add_common_responses(result, generator, request, public):
    _bulk_bodies_not_empty(result)
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("ErrorDetail", ERROR_DETAIL_SCHEMA)
    schemas.setdefault("ValidationError", VALIDATION_ERROR_SCHEMA)
    default_security = result.get("security")
    for ops in result.get("paths", {}).values():
        for op in ops.values():
            responses = op.setdefault("responses", {})
            security = op.get("security", default_security)
            secured = bool(security) and security != [{}]
            for code, description in COMMON.items():
                if code == "503" or secured:
                    responses.setdefault(code, _response("ErrorDetail", description))
            params = op.get("parameters", [])
            if "requestBody" in op or any(p.get("in") == "query" for p in params):
                responses.setdefault(
                    "400", _response("ValidationError", "Invalid input; `errors` names the fields.")
                )
            if "requestBody" in op:
                responses.setdefault("413", _response("ErrorDetail", "Request body too large."))
            if any(p.get("in") == "path" for p in params):
                responses.setdefault("404", _response("ErrorDetail", "Unknown or malformed id."))
            if any(p.get("name") == "page" for p in params):
                responses.setdefault("404", _response("ErrorDetail", "Page past the end."))
    return result
