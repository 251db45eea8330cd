"""docs/api.md describes the API the server publishes: every operation of the OpenAPI schema has
its `### METHOD /path` section and no section names an operation the schema lacks; every curl
example calls a path of the schema."""

import json
import re
from pathlib import Path

import pytest
from django.test import Client

DOC = (Path(__file__).resolve().parents[1] / "docs" / "api.md").read_text()
METHODS = {"get", "post", "put", "patch", "delete"}


def normal(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path).rstrip("/") or "/"


@pytest.fixture(scope="module")
def schema() -> dict:
    response = Client().get("/openapi.json")
    assert response.status_code == 200
    return json.loads(response.content)


def schema_operations(schema) -> set[tuple[str, str]]:
    return {
        (method.upper(), normal(path))
        for path, item in schema["paths"].items()
        for method in item
        if method in METHODS
    }


def documented_operations() -> set[tuple[str, str]]:
    found = re.findall(r"^### `([A-Z]+) (/\S*)`$", DOC, re.M)
    assert len(found) == len(set(found)), "an operation is described twice"
    return {(method, normal(path)) for method, path in found}


def test_every_schema_operation_is_documented(schema):
    missing = schema_operations(schema) - documented_operations()
    assert not missing, f"in the schema, not in docs/api.md: {sorted(missing)}"


def test_every_documented_operation_is_in_the_schema(schema):
    unknown = documented_operations() - schema_operations(schema)
    assert not unknown, f"in docs/api.md, not in the schema: {sorted(unknown)}"


def test_curl_examples_call_paths_of_the_schema(schema):
    patterns = [
        re.compile("^" + re.escape(normal(p)).replace(r"\{\}", "[^/]+") + "$")
        for p in schema["paths"]
    ]
    urls = re.findall(r"http://localhost:7000(/[^\s\"'?]*)", DOC)
    assert len(urls) > 20
    for path in urls:
        assert any(p.match(normal(path)) for p in patterns), path


@pytest.mark.parametrize(
    "words",
    [
        "Authorization: Bearer",
        "Idempotency-Key",
        "Idempotent-Replayed: true",
        '"count", "next", "previous", "results"',
        "SHOP_TIME_ZONE",
        '"time_zone"',
        "?status=placed|fulfilled|cancelled",
        "`weekday`",
        '{"reason": optional, at most 500 characters}',
        "Retry-After",
    ],
)
def test_what_a_client_needs_is_said(words):
    assert words in DOC
