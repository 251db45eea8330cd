"""Passwords and session tokens never reach the log output of the login, API and logout flows."""

import logging
import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_no_password_or_token_in_logs(caplog, staff_user, admin_user, redis_client):
    caplog.set_level(logging.DEBUG)
    api = APIClient()
    secrets_seen = ["staff-pass-123", "admin-pass-123", "wrong-pass-777"]

    assert (
        api.post(
            "/auth/login/", {"username": "staff", "password": "wrong-pass-777"}, format="json"
        ).status_code
        == 401
    )
    staff = api.post(
        "/auth/login/", {"username": "staff", "password": "staff-pass-123"}, format="json"
    ).json()
    admin = api.post(
        "/auth/login/", {"username": "admin", "password": "admin-pass-123"}, format="json"
    ).json()
    secrets_seen += [staff["session_token"], admin["session_token"]]

    staff_api = APIClient()
    staff_api.credentials(HTTP_AUTHORIZATION=f"Bearer {staff['session_token']}")
    admin_api = APIClient()
    admin_api.credentials(HTTP_AUTHORIZATION=f"Bearer {admin['session_token']}")
    assert staff_api.get(f"/session/{staff_user.pk}/").status_code == 200
    assert staff_api.put(f"/session/{staff_user.pk}/").status_code == 200
    assert staff_api.get(f"/session/{admin_user.pk}/").status_code == 403
    created = admin_api.post(f"/session/{staff_user.pk}/").json()
    secrets_seen.append(created["session_token"])
    assert staff_api.get(f"/session/{staff_user.pk}/").status_code == 401  # replaced
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Bearer forged-token-value-abcdef")
    secrets_seen.append("forged-token-value-abcdef")
    assert bad.get("/session/1/").status_code == 401
    assert admin_api.delete(f"/session/{staff_user.pk}/").status_code == 204
    assert admin_api.post("/auth/logout/").status_code == 204
    assert admin_api.post("/auth/logout/").status_code == 401

    browser = Client()
    browser.post("/accounts/login/", {"username": "staff", "password": "wrong-pass-777"})
    browser.post("/accounts/login/", {"username": "staff", "password": "staff-pass-123"})
    browser.get("/dashboard/sessions/")
    browser.post("/auth/logout/", content_type="application/json")

    assert caplog.records, "the flows should have logged something"
    text = caplog.text + "\n".join(repr(r.__dict__) for r in caplog.records)
    for secret in secrets_seen:
        assert secret not in text
    assert not re.search(r"Bearer\s+\S{20,}", text)
