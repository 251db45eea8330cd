"""/session/{user_id}/: every method, every status, and who may do what."""

import pytest
from rest_framework.test import APIClient

from sessions_app.manager import SessionManager, token_hash
from shopsite.timeutil import parse_iso

pytestmark = pytest.mark.django_db

FIELDS = {"user_id", "session_token", "login_time", "last_active", "expires_in"}


def url(user_id, slash=True):
    return f"/session/{user_id}/" if slash else f"/session/{user_id}"


@pytest.mark.parametrize("slash", [True, False])
def test_own_session_lifecycle(staff_client, staff_user, redis_client, slash):
    uid = staff_user.pk
    assert staff_client.get(url(uid, slash)).status_code == 404
    assert staff_client.put(url(uid, slash)).status_code == 404
    assert staff_client.delete(url(uid, slash)).status_code == 404

    created = staff_client.post(url(uid, slash))
    assert created.status_code == 201
    body = created.json()
    assert set(body) == FIELDS and body["user_id"] == str(uid)
    assert body["expires_in"] > 1790

    got = staff_client.get(url(uid, slash))
    assert got.status_code == 200
    assert got.json()["session_token"] == body["session_token"]

    redis_client.expire(f"session:{uid}", 60)
    touched = staff_client.put(url(uid, slash))
    assert touched.status_code == 200
    assert touched.json()["expires_in"] >= 1798
    # As instants: iso() drops a zero millisecond part, so the strings do not sort as times.
    assert parse_iso(touched.json()["last_active"]) >= parse_iso(body["last_active"])
    assert touched.json()["login_time"] == body["login_time"]

    assert staff_client.delete(url(uid, slash)).status_code == 204
    assert redis_client.exists(f"session:{uid}") == 0
    assert redis_client.exists(f"session_token:{token_hash(body['session_token'])}") == 0
    assert staff_client.get(url(uid, slash)).status_code == 404


def test_post_replaces_and_old_token_401(staff_client, staff_user, redis_client):
    first = staff_client.post(url(staff_user.pk)).json()["session_token"]
    second = staff_client.post(url(staff_user.pk)).json()["session_token"]
    assert first != second
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {first}")
    assert client.get(url(staff_user.pk)).status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {second}")
    assert client.get(url(staff_user.pk)).status_code == 200


def test_post_and_put_ignore_a_body(staff_client, staff_user, redis_client):
    response = staff_client.post(url(staff_user.pk), {"session_token": "mine"}, format="json")
    assert response.status_code == 201
    assert response.json()["session_token"] != "mine"
    assert staff_client.put(url(staff_user.pk), {"x": 1}, format="json").status_code == 200


@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
def test_staff_cannot_touch_another_users_session(
    staff_client, other_staff_user, redis_client, method
):
    # 403 whether or not the other session exists, and nothing changes.
    assert getattr(staff_client, method)(url(other_staff_user.pk)).status_code == 403
    theirs = SessionManager().create(other_staff_user.pk)
    response = getattr(staff_client, method)(url(other_staff_user.pk))
    assert response.status_code == 403
    assert theirs.session_token not in response.content.decode()
    assert SessionManager().get(other_staff_user.pk).session_token == theirs.session_token


@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
def test_staff_403_for_unknown_or_odd_ids(staff_client, redis_client, method):
    for user_id in ["999999", "abc", "0"]:
        assert getattr(staff_client, method)(url(user_id)).status_code == 403


def test_admin_manages_anyones_session(admin_client, staff_user, redis_client):
    uid = staff_user.pk
    assert admin_client.get(url(uid)).status_code == 404
    created = admin_client.post(url(uid))
    assert created.status_code == 201
    assert created.json()["user_id"] == str(uid)
    assert admin_client.get(url(uid)).json()["session_token"] == created.json()["session_token"]
    assert admin_client.put(url(uid)).status_code == 200
    assert admin_client.delete(url(uid)).status_code == 204
    assert admin_client.get(url(uid)).status_code == 404


def test_admin_ends_a_staff_token(admin_client, staff_user, redis_client):
    token = SessionManager().create(staff_user.pk).session_token
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get(url(staff_user.pk)).status_code == 200
    assert admin_client.delete(url(staff_user.pk)).status_code == 204
    assert client.get(url(staff_user.pk)).status_code == 401


def test_superuser_is_admin(db, staff_user, redis_client, django_user_model):
    root = django_user_model.objects.create_superuser("root", "r@example.com", "root-pass-123")
    client = APIClient()
    client.force_authenticate(root)
    assert client.post(url(staff_user.pk)).status_code == 201


def test_admin_post_for_unknown_or_inactive_user_404(admin_client, staff_user, redis_client):
    assert admin_client.post(url(999999)).status_code == 404
    assert admin_client.post(url("not-a-number")).status_code == 404
    staff_user.is_active = False
    staff_user.save()
    assert admin_client.post(url(staff_user.pk)).status_code == 404
    assert not list(redis_client.scan_iter(match="session*"))


def test_admin_get_unknown_404(admin_client, redis_client):
    assert admin_client.get(url("nobody")).status_code == 404


def test_plain_user_403(plain_user, redis_client):
    client = APIClient()
    client.force_authenticate(plain_user)
    assert client.post(url(plain_user.pk)).status_code == 403


def test_anonymous_401(anon_client, staff_user, redis_client):
    for method in ["get", "post", "put", "delete"]:
        response = getattr(anon_client, method)(url(staff_user.pk))
        assert response.status_code == 401


def test_bearer_staff_rules(anon_client, staff_user, other_staff_user, redis_client):
    token = anon_client.post(
        "/auth/login/", {"username": "staff", "password": "staff-pass-123"}, format="json"
    ).json()["session_token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get(url(other_staff_user.pk)).status_code == 403
    assert client.get(url(staff_user.pk)).status_code == 200
    # Deleting one's own session ends the token that did it.
    assert client.delete(url(staff_user.pk)).status_code == 204
    assert client.get(url(staff_user.pk)).status_code == 401


def test_session_in_openapi_schema(anon_client):
    import json

    schema = json.loads(anon_client.get("/openapi.json?format=json").content)
    for path in ["/auth/login/", "/auth/logout/", "/session/{user_id}/"]:
        assert path in schema["paths"], path
    ops = schema["paths"]["/session/{user_id}/"]
    assert set(ops) >= {"get", "post", "put", "delete"}
    assert "429" in schema["paths"]["/auth/login/"]["post"]["responses"]


@pytest.mark.parametrize(
    "user_id", ["99999999999999999999999999", "-1", "1.5", "%00", "é", "a" * 3000, "1e3"]
)
def test_admin_odd_ids_404(admin_client, redis_client, user_id):
    for method in ["get", "post", "put", "delete"]:
        assert getattr(admin_client, method)(url(user_id)).status_code == 404
