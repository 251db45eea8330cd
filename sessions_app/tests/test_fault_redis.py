"""Redis down: login and bearer calls answer 503 naming redis (stops the real Redis)."""

import time

import pytest
from django.test import Client
from rest_framework.test import APIClient

from sessions_app.manager import SessionManager
from tests.servicectl import stopped

pytestmark = [pytest.mark.fault, pytest.mark.django_db]


def test_redis_outage_is_503_naming_redis(staff_user, redis_client):
    token = SessionManager().create(staff_user.pk).session_token
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    with stopped("redis"):
        login = APIClient().post(
            "/auth/login/", {"username": "staff", "password": "staff-pass-123"}, format="json"
        )
        assert login.status_code == 503
        assert login.json() == {"detail": "redis unavailable"}

        call = api.get(f"/session/{staff_user.pk}/")
        assert call.status_code == 503
        assert call.json()["detail"] == "redis unavailable"

        logout = api.post("/auth/logout/")
        assert logout.status_code == 503

        page = Client().post(
            "/accounts/login/",
            {"username": "staff", "password": "staff-pass-123"},
            HTTP_ACCEPT="text/html",
        )
        assert page.status_code == 503
        assert b"redis" in page.content
    # Back up (Redis may still be loading its dataset for a moment): logins work again.
    deadline = time.monotonic() + 60
    while True:
        response = APIClient().post(
            "/auth/login/", {"username": "staff", "password": "staff-pass-123"}, format="json"
        )
        if response.status_code != 503 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert response.status_code == 200
