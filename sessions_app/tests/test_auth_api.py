"""POST /auth/login/, bearer authentication, POST /auth/logout/ against the real Redis."""

import pytest
from rest_framework.test import APIClient

from sessions_app.manager import SessionManager, token_hash

pytestmark = pytest.mark.django_db


def login(client, username, password, **extra):
    return client.post(
        "/auth/login/", {"username": username, "password": password}, format="json", **extra
    )


def bearer(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_login_returns_session(anon_client, staff_user, redis_client, settings):
    response = login(anon_client, "staff", "staff-pass-123")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"user_id", "session_token", "login_time", "last_active", "expires_in"}
    assert body["user_id"] == str(staff_user.pk)
    assert len(body["session_token"]) >= 43  # 32 random bytes, URL-safe base64
    assert body["login_time"].endswith("Z") and body["last_active"] == body["login_time"]
    assert 1790 < body["expires_in"] <= 1800
    assert response["Cache-Control"] == "no-store"
    assert redis_client.hget(f"session:{staff_user.pk}", "session_token") == body["session_token"]
    token_key = f"session_token:{token_hash(body['session_token'])}"
    assert redis_client.get(token_key) == str(staff_user.pk)
    assert 1790 < redis_client.ttl(token_key) <= 1800
    # The token itself is never a key name.
    assert not list(redis_client.scan_iter(match=f"*{body['session_token']}*"))


def test_login_without_trailing_slash(anon_client, staff_user, redis_client):
    response = anon_client.post(
        "/auth/login", {"username": "staff", "password": "staff-pass-123"}, format="json"
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "username,password", [("staff", "wrong-password"), ("nobody", "staff-pass-123")]
)
def test_login_wrong_credentials_401(anon_client, staff_user, redis_client, username, password):
    response = login(anon_client, username, password)
    assert response.status_code == 401
    assert "detail" in response.json()
    assert not list(redis_client.scan_iter(match="session*"))


def test_login_inactive_user_401(anon_client, staff_user, redis_client):
    staff_user.is_active = False
    staff_user.save()
    assert login(anon_client, "staff", "staff-pass-123").status_code == 401


@pytest.mark.parametrize(
    "body,field",
    [
        ({"password": "x"}, "username"),
        ({"username": "staff"}, "password"),
        ({"username": "x" * 151, "password": "x"}, "username"),
        ({"username": "staff", "password": "x" * 5000}, "password"),
        ({"username": ["staff"], "password": "x"}, "username"),
    ],
)
def test_login_bad_body_400_names_field(anon_client, staff_user, redis_client, body, field):
    response = anon_client.post("/auth/login/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_login_not_json_400(anon_client, redis_client):
    response = anon_client.post("/auth/login/", "{nope", content_type="application/json")
    assert response.status_code == 400


def test_login_ignores_csrf_and_cookies(staff_user, redis_client):
    client = APIClient(enforce_csrf_checks=True)
    assert login(client, "staff", "staff-pass-123").status_code == 200


def test_bearer_token_authenticates_and_touches(anon_client, staff_user, redis_client):
    token = login(anon_client, "staff", "staff-pass-123").json()["session_token"]
    redis_client.expire(f"session:{staff_user.pk}", 100)
    redis_client.expire(f"session_token:{token_hash(token)}", 100)
    response = bearer(token).get(f"/session/{staff_user.pk}/")
    assert response.status_code == 200
    # Using the token slid both TTLs back to ~1800.
    assert redis_client.ttl(f"session:{staff_user.pk}") > 1790
    assert redis_client.ttl(f"session_token:{token_hash(token)}") > 1790
    assert response.json()["expires_in"] > 1790


@pytest.mark.parametrize(
    "header",
    [
        "Bearer not-a-real-token",
        "Bearer",
        "Bearer a b",
        "bearer " + "A" * 43,
    ],
)
def test_bad_bearer_401(staff_user, redis_client, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(f"/session/{staff_user.pk}/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_no_credentials_401(anon_client, staff_user, redis_client):
    response = anon_client.get(f"/session/{staff_user.pk}/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_token_of_deactivated_user_401(anon_client, staff_user, redis_client):
    token = login(anon_client, "staff", "staff-pass-123").json()["session_token"]
    staff_user.is_active = False
    staff_user.save()
    assert bearer(token).get(f"/session/{staff_user.pk}/").status_code == 401


def test_relogin_replaces_session_old_token_401(anon_client, staff_user, redis_client):
    old = login(anon_client, "staff", "staff-pass-123").json()["session_token"]
    new = login(anon_client, "staff", "staff-pass-123").json()["session_token"]
    assert old != new
    assert bearer(old).get(f"/session/{staff_user.pk}/").status_code == 401
    assert bearer(new).get(f"/session/{staff_user.pk}/").status_code == 200
    assert redis_client.get(f"session_token:{token_hash(old)}") is None


def test_logout_ends_session(anon_client, staff_user, redis_client):
    token = login(anon_client, "staff", "staff-pass-123").json()["session_token"]
    client = bearer(token)
    assert client.post("/auth/logout/").status_code == 204
    assert redis_client.exists(f"session:{staff_user.pk}") == 0
    assert redis_client.exists(f"session_token:{token_hash(token)}") == 0
    assert client.get(f"/session/{staff_user.pk}/").status_code == 401
    assert client.post("/auth/logout").status_code == 401


def test_logout_without_credentials_401(anon_client, redis_client):
    assert anon_client.post("/auth/logout/").status_code == 401


def test_manager_authenticate_rejects_other_users_token(staff_user, other_staff_user, redis_client):
    manager = SessionManager()
    mine = manager.create(staff_user.pk)
    assert manager.authenticate(mine.session_token).user_id == str(staff_user.pk)
    assert manager.authenticate("") is None
    assert manager.authenticate(mine.session_token + "x") is None


def test_login_updates_last_login(anon_client, staff_user, redis_client):
    assert staff_user.last_login is None
    login(anon_client, "staff", "staff-pass-123")
    staff_user.refresh_from_db()
    assert staff_user.last_login is not None
