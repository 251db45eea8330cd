"""OpenAPI: /openapi.json lists every endpoint of the HTTP contract; /docs (Swagger UI) is served
entirely from this server (drf-spectacular-sidecar static files), with the bearer scheme."""

import json
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.test import Client

# Every (method, path) of the HTTP contract (shared/api-contract.md). Path parameter names are
# the contract's; they are compared as "{}" placeholders.
CONTRACT_OPERATIONS = [
    ("post", "/auth/login/"),
    ("post", "/auth/logout/"),
    ("post", "/products/"),
    ("get", "/products/"),
    ("get", "/products/{id}/"),
    ("patch", "/products/{id}/"),
    ("delete", "/products/{id}/"),
    ("post", "/products/{id}/stock/"),
    ("delete", "/products/unavailable/"),
    ("post", "/orders/"),
    ("get", "/orders/recent/"),
    ("get", "/orders/"),
    ("get", "/orders/{id}/"),
    ("post", "/orders/{id}/fulfil/"),
    ("post", "/orders/{id}/cancel/"),
    ("get", "/stats/sold/"),
    ("get", "/stats/customer/{name}"),
    ("post", "/session/{user_id}/"),
    ("get", "/session/{user_id}/"),
    ("put", "/session/{user_id}/"),
    ("delete", "/session/{user_id}/"),
    ("post", "/logs/"),
    ("get", "/logs/"),
    ("put", "/logs/{event_id}/"),
    ("delete", "/logs/old/"),
    ("get", "/backups/"),
    ("post", "/backups/"),
    ("get", "/backups/{name}/"),
    ("get", "/backups/{name}/download/"),
    ("get", "/healthz"),
]
# Open to anyone (contract: "/healthz and /docs are open"; logging in needs no token).
OPEN_OPERATIONS = {("get", "/healthz"), ("post", "/auth/login/")}


def _normal(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path).rstrip("/")


@pytest.fixture(scope="module")
def schema():
    response = Client().get("/openapi.json")
    assert response.status_code == 200
    assert "json" in response["Content-Type"]
    return json.loads(response.content)


def _operation(schema, method, path):
    by_normal = {_normal(p): item for p, item in schema["paths"].items()}
    return by_normal.get(_normal(path), {}).get(method)


@pytest.mark.parametrize(("method", "path"), CONTRACT_OPERATIONS)
def test_schema_lists_contract_operation(schema, method, path):
    assert schema["openapi"].startswith("3.")
    assert _operation(schema, method, path) is not None, f"{method.upper()} {path} not in schema"


def test_schema_answers_with_and_without_slash():
    assert Client().get("/openapi.json/").status_code == 200
    assert Client().get("/docs/").status_code == 200


def test_schema_has_bearer_scheme_on_protected_operations(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    for method, path in CONTRACT_OPERATIONS:
        if (method, path) in OPEN_OPERATIONS:
            continue
        security = _operation(schema, method, path).get("security", schema.get("security"))
        assert security and {"bearerAuth": []} in security, f"{method} {path}"


def test_schema_marks_open_operations_open(schema):
    for method, path in OPEN_OPERATIONS:
        security = _operation(schema, method, path).get("security", schema.get("security"))
        assert not security or {} in security, f"{method} {path} should need no credentials"


class _Assets(HTMLParser):
    """Every URL the page would load by itself: script/img src, link href, inline url(...)."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self._in_script = False
        self.inline_scripts: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href", "srcset", "data", "poster", "action"):
            if attrs.get(name) and (tag != "a" or name != "href"):
                self.urls.append(attrs[name])
        self._in_script = tag == "script" and not attrs.get("src")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.inline_scripts.append(data)


def _same_origin(url: str) -> bool:
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc  # "/static/..." or relative


def test_docs_loads_only_same_origin_assets():
    client = Client()
    response = client.get("/docs")
    assert response.status_code == 200
    parser = _Assets()
    parser.feed(response.content.decode())
    assert parser.urls, "Swagger UI page references no assets?"
    foreign = [u for u in parser.urls if not _same_origin(u)]
    assert foreign == []
    # Inline code names no outside host either (e.g. a CDN or the online validator).
    inline = "\n".join(parser.inline_scripts)
    assert not re.search(r"https?://", inline), re.findall(r"https?://[^\s\"']+", inline)
    assert '"validatorUrl": null' in inline
    # ...and each asset is really served here (sidecar static files).
    for url in parser.urls:
        asset = client.get(url)
        assert asset.status_code == 200, url
        b"".join(asset.streaming_content) if asset.streaming else asset.content


def test_docs_is_open_to_anonymous_users():
    response = Client().get("/docs")
    assert response.status_code == 200
    assert b"swagger-ui" in response.content
