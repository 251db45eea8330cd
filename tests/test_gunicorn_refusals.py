"""Issue 13: what gunicorn refuses before Django sees it (a request line over
--limit-request-line, too many or too large headers, a malformed line) is answered in the API's
JSON error shape by our worker class, on a real gunicorn."""

import json
import socket
from urllib.parse import urlsplit

import httpx
import pytest

from tests.gunicorn_server import GunicornServer


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with GunicornServer(tmp_path_factory.mktemp("gunicorn"), workers=1) as running:
        yield running


def raw(server, request: bytes) -> tuple[int, dict, bytes]:
    """Send bytes as they are (an HTTP client would refuse to build some of these)."""
    parts = urlsplit(server.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def assert_json_error(headers: dict, body: bytes) -> None:
    assert headers["content-type"] == "application/json"
    assert set(json.loads(body)) == {"detail"}
    assert b"<html" not in body


def test_request_line_over_the_limit_is_a_json_414(server):
    status, headers, body = raw(
        server, b"GET /products/?q=" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    assert status == 414
    assert_json_error(headers, body)


def test_too_many_headers_is_a_json_431(server):
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(150))
    status, headers, body = raw(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    assert status == 431
    assert_json_error(headers, body)


def test_a_header_over_the_field_limit_is_a_json_431(server):
    big = b"X-Big: " + b"b" * 9000 + b"\r\n"
    status, headers, body = raw(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + big + b"\r\n")
    assert status == 431
    assert_json_error(headers, body)


def test_a_malformed_request_line_is_a_json_400(server):
    status, headers, body = raw(server, b"NOT A REQUEST\r\n\r\n")
    assert status == 400
    assert_json_error(headers, body)


def test_requests_within_the_limits_reach_django(server):
    response = httpx.get(server.url + "/products/?q=" + "a" * 150, headers=server.auth)
    assert response.status_code == 200
    response = httpx.get(server.url + "/products/?q=" + "a" * 3000, headers=server.auth)
    assert response.status_code == 400 and "q" in response.json()["errors"]  # max 200 chars
