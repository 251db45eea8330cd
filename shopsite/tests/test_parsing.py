"""Hostile bodies: invalid JSON, invalid UTF-8, deep nesting, oversized bodies."""

import pytest
from django.test import override_settings
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView


class Echo(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def post(self, request):
        return Response({"received": type(request.data).__name__})


factory = APIRequestFactory()


def post_raw(body: bytes):
    request = factory.post("/echo", body, content_type="application/json")
    return Echo.as_view()(request)


def test_valid_json_is_parsed():
    response = post_raw(b'{"a": [1, 2, {"b": 3}]}')
    assert response.status_code == 200
    assert response.data == {"received": "dict"}


@pytest.mark.parametrize(
    "body",
    [b"{not json", b'{"a": NaN}', b'{"a": Infinity}', b"\xff\xfe{}", b'{"a": "\xc3\x28"}'],
    ids=["syntax", "nan", "infinity", "bad-bom", "invalid-utf8"],
)
def test_malformed_bodies_get_400_with_errors(body):
    response = post_raw(body)
    assert response.status_code == 400
    assert "detail" in response.data and "errors" in response.data


@pytest.mark.parametrize("depth", [40, 100_000])
def test_deeply_nested_json_gets_400(depth):
    response = post_raw(b"[" * depth + b"]" * depth)
    assert response.status_code == 400
    assert "nested" in str(response.data["detail"])


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_oversized_body_gets_413_before_parsing(client):
    response = client.post("/healthz", b"x" * 1001, content_type="application/json")
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]
