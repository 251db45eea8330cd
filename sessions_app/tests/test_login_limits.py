"""Failed-login limits per username and per client address, on the API and the dashboard form."""

import time

import pytest
from django.test import Client, override_settings
from rest_framework.test import APIClient

from sessions_app import services

pytestmark = pytest.mark.django_db

LIMITS = {
    "LOGIN_MAX_FAILURES_PER_USER": 3,
    "LOGIN_MAX_FAILURES_PER_ADDRESS": 5,
    "LOGIN_FAILURE_WINDOW_SECONDS": 60,
}


@pytest.fixture(autouse=True)
def _limits():
    with override_settings(**LIMITS):
        yield


@pytest.fixture
def events(monkeypatch):
    """Every event the sessions app records (the real event_record still runs)."""
    recorded = []
    real = services.event_record

    def spy(**kwargs):
        recorded.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(services, "event_record", spy)
    return recorded


def login(username, password, address="10.0.0.1", **extra):
    return APIClient().post(
        "/auth/login/",
        {"username": username, "password": password},
        format="json",
        REMOTE_ADDR=address,
        **extra,
    )


def test_per_username_limit_then_429_even_with_right_password(staff_user, redis_client):
    for _ in range(3):
        assert login("staff", "wrong").status_code == 401
    response = login("staff", "staff-pass-123")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert "detail" in response.json()
    assert not list(redis_client.scan_iter(match="session:*"))
    # Another address does not help: the username itself is locked.
    assert login("staff", "staff-pass-123", address="10.9.9.9").status_code == 429
    # Another user from the same address is still fine (address count 3 < 5).
    assert login("staff2", "x").status_code == 401


def test_unknown_usernames_are_limited_too(redis_client):
    for _ in range(3):
        assert login("ghost", "x").status_code == 401
    assert login("ghost", "x").status_code == 429


def test_per_address_limit_across_usernames(staff_user, other_staff_user, redis_client):
    for name in ["a", "b", "c", "d", "e"]:
        assert login(name, "wrong").status_code == 401
    response = login("staff", "staff-pass-123")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert login("staff2", "staff-pass-456", address="10.0.0.2").status_code == 200


def test_window_passes(staff_user, redis_client):
    with override_settings(LOGIN_FAILURE_WINDOW_SECONDS=2):
        for _ in range(3):
            login("staff", "wrong")
        response = login("staff", "staff-pass-123")
        assert response.status_code == 429
        assert int(response["Retry-After"]) <= 2
        time.sleep(2.2)
        assert login("staff", "staff-pass-123").status_code == 200


def test_success_clears_username_count(staff_user, redis_client):
    for _ in range(2):
        login("staff", "wrong")
    assert login("staff", "staff-pass-123").status_code == 200
    for _ in range(2):
        assert login("staff", "wrong").status_code == 401
    assert login("staff", "staff-pass-123").status_code == 200


def test_rejected_bodies_do_not_count(staff_user, redis_client):
    for _ in range(5):
        assert (
            APIClient().post("/auth/login/", {"username": "staff"}, format="json").status_code
            == 400
        )
    assert login("staff", "staff-pass-123").status_code == 200


def test_x_forwarded_for_ignored_unless_trusted(staff_user, redis_client):
    for i in range(5):
        login(f"u{i}", "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}")
    # Spoofed X-Forwarded-For does not escape the REMOTE_ADDR count.
    assert login("staff", "staff-pass-123", HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429


def test_x_forwarded_for_when_trusted_uses_proxy_appended_address(staff_user, redis_client):
    with override_settings(TRUST_X_FORWARDED_FOR=True):
        for i in range(5):
            login(f"u{i}", "wrong", HTTP_X_FORWARDED_FOR=f"6.6.6.{i}, 198.51.100.7")
        # All five came from 198.51.100.7 (the entry our proxy appended), whatever the client wrote.
        blocked = login("staff", "staff-pass-123", HTTP_X_FORWARDED_FOR="198.51.100.7")
        assert blocked.status_code == 429
        assert (
            login("staff", "staff-pass-123", HTTP_X_FORWARDED_FOR="198.51.100.8").status_code == 200
        )


def test_events_login_failed_without_password_and_session_created(staff_user, redis_client, events):
    login("staff", "wrong-secret-pw")
    login("staff", "staff-pass-123")
    types = [e["event_type"] for e in events]
    assert types == ["login_failed", "session_created"]
    failed = events[0]
    assert failed["metadata"]["username"] == "staff"
    assert failed["metadata"]["reason"] == "bad_credentials"
    assert "wrong-secret-pw" not in repr(failed)
    assert events[1]["user_id"] == str(staff_user.pk)
    # The real outbox holds no password or token either.
    token = login("staff", "staff-pass-123").json()["session_token"]
    raw = repr(redis_client.xrange("eventlog:outbox"))
    assert "wrong-secret-pw" not in raw and "staff-pass-123" not in raw and token not in raw


def test_rate_limited_attempt_is_logged(staff_user, redis_client, events):
    for _ in range(4):
        login("staff", "wrong")
    reasons = [e["metadata"]["reason"] for e in events if e["event_type"] == "login_failed"]
    assert reasons == ["bad_credentials"] * 3 + ["rate_limited"]


# --- the dashboard form shares the counters ---------------------------------------------------


def dashboard_login(client, username, password, address="10.0.0.1"):
    return client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_dashboard_form_limited_then_429(staff_user, redis_client):
    client = Client()
    for _ in range(3):
        response = dashboard_login(client, "staff", "wrong")
        assert response.status_code == 200  # the form again, with its error
    response = dashboard_login(client, "staff", "staff-pass-123")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert b"Too many failed sign-in attempts" in response.content
    assert "_auth_user_id" not in client.session
    # The API sees the same count.
    assert login("staff", "staff-pass-123").status_code == 429


def test_api_failures_block_dashboard_form(staff_user, redis_client):
    for _ in range(3):
        login("staff", "wrong")
    assert dashboard_login(Client(), "staff", "staff-pass-123").status_code == 429


def test_dashboard_login_failure_event(staff_user, redis_client, events):
    dashboard_login(Client(), "staff", "wrong-form-pw")
    assert [e["event_type"] for e in events] == ["login_failed"]
    assert events[0]["metadata"]["via"] == "dashboard"
    assert "wrong-form-pw" not in repr(events)


def test_admin_site_login_is_limited_too(admin_user, redis_client):
    client = Client()
    for _ in range(3):
        response = client.post(
            "/admin/login/", {"username": "admin", "password": "wrong"}, REMOTE_ADDR="10.0.0.1"
        )
        assert response.status_code == 200
    response = client.post(
        "/admin/login/", {"username": "admin", "password": "admin-pass-123"}, REMOTE_ADDR="10.0.0.1"
    )
    assert b"Too many failed sign-in attempts" in response.content
    assert "_auth_user_id" not in client.session


def test_parallel_guesses_cannot_slip_past_the_limit(redis_client):
    from concurrent.futures import ThreadPoolExecutor

    from sessions_app import login_limits

    def guess(_):
        try:
            login_limits.attempt_begin("victim", "10.0.0.1")
            return "allowed"
        except login_limits.LoginBlocked:
            return "blocked"

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(guess, range(40)))
    assert outcomes.count("allowed") == 3  # LOGIN_MAX_FAILURES_PER_USER
    assert outcomes.count("blocked") == 37


def test_success_returns_the_address_slot(staff_user, redis_client):
    # Many successful logins from one address never use up its failure budget.
    for _ in range(8):
        assert login("staff", "staff-pass-123").status_code == 200
    for name in ["a", "b", "c", "d"]:
        assert login(name, "wrong").status_code == 401
    assert login("staff", "staff-pass-123").status_code == 200


def test_admin_site_failures_count_for_the_api_too(admin_user, redis_client, events):
    client = Client()
    for _ in range(3):
        client.post(
            "/admin/login/", {"username": "admin", "password": "wrong"}, REMOTE_ADDR="10.0.0.3"
        )
    assert [e["metadata"]["via"] for e in events] == ["admin_site"] * 3
    # The same counters: the API refuses the right password from anywhere now.
    assert login("admin", "admin-pass-123", address="10.0.0.4").status_code == 429
    assert "_auth_user_id" not in client.session


def test_every_password_check_goes_through_the_limit(staff_user, redis_client):
    # Any caller of django.contrib.auth.authenticate, not only our three sign-in paths.
    from django.contrib.auth import authenticate

    for _ in range(3):
        assert authenticate(None, username="staff", password="wrong") is None
    assert login("staff", "staff-pass-123").status_code == 429
