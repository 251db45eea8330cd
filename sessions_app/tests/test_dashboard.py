"""Dashboard (cookie) logins own a SessionManager session; the admins' Sessions page."""

import re
import time
from zoneinfo import ZoneInfo

import pytest
from django.test import Client, override_settings

from sessions_app.manager import SessionManager
from shopsite.timeutil import parse_iso

pytestmark = pytest.mark.django_db

PAGE = "/dashboard/sessions/"


def form_login(username, password, **extra):
    client = Client(**extra)
    form = client.get("/accounts/login/").content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    response = client.post(
        "/accounts/login/",
        {"username": username, "password": password, "csrfmiddlewaretoken": csrf},
    )
    assert response.status_code == 302, response.content[:500]
    return client


def test_dashboard_login_creates_session(staff_user, redis_client):
    client = form_login("staff", "staff-pass-123")
    session = SessionManager().get(staff_user.pk)
    assert session is not None and session.expires_in > 1790
    # Logged in: the admin-only page says 403 rather than sending us to the login page.
    assert client.get(PAGE).status_code == 403


def test_dashboard_request_touches_session(staff_user, redis_client):
    client = form_login("staff", "staff-pass-123")
    redis_client.expire(f"session:{staff_user.pk}", 30)
    client.get(PAGE)
    assert redis_client.ttl(f"session:{staff_user.pk}") > 1790


def test_ended_session_signs_the_browser_out(staff_user, redis_client):
    client = form_login("staff", "staff-pass-123")
    SessionManager().delete(staff_user.pk)
    response = client.get(PAGE)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert "_auth_user_id" not in client.session


def test_api_login_replaces_dashboard_session(staff_user, redis_client):
    client = form_login("staff", "staff-pass-123")
    Client().post(
        "/auth/login/",
        {"username": "staff", "password": "staff-pass-123"},
        content_type="application/json",
    )
    assert client.get(PAGE).status_code == 302


def test_dashboard_session_expires(staff_user, redis_client):
    with override_settings(SESSION_TTL_SECONDS=2):
        client = form_login("staff", "staff-pass-123")
        time.sleep(3)
        assert client.get(PAGE).status_code == 302


def test_dashboard_logout_ends_session(staff_user, redis_client):
    client = form_login("staff", "staff-pass-123")
    assert client.post("/accounts/logout/").status_code == 302
    assert SessionManager().get(staff_user.pk) is None


def test_dashboard_logout_keeps_a_newer_api_session(staff_user, redis_client):
    client = form_login("staff", "staff-pass-123")
    newer = SessionManager().create(staff_user.pk)
    client.post("/accounts/logout/")
    assert SessionManager().get(staff_user.pk).session_token == newer.session_token


def test_cookie_api_logout(staff_user, redis_client):
    client = form_login("staff", "staff-pass-123")
    assert client.post("/auth/logout/").status_code == 204
    assert SessionManager().get(staff_user.pk) is None
    assert "_auth_user_id" not in client.session


def test_cookie_api_create_own_session_keeps_browser_signed_in(staff_user, redis_client):
    client = form_login("staff", "staff-pass-123")
    assert client.post(f"/session/{staff_user.pk}/").status_code == 201
    assert client.get(f"/session/{staff_user.pk}/").status_code == 200


def test_cookie_api_needs_csrf(staff_user, redis_client):
    client = form_login("staff", "staff-pass-123", enforce_csrf_checks=True)
    response = client.post(f"/session/{staff_user.pk}/", content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


# --- the Sessions page ----------------------------------------------------------------------


def commandstat(redis_client, name: str) -> int:
    return redis_client.info("commandstats").get(f"cmdstat_{name}", {}).get("calls", 0)


def test_sessions_page_lists_sessions_with_scan(admin_user, staff_user, redis_client):
    client = form_login("admin", "admin-pass-123")
    SessionManager().create(staff_user.pk)
    keys_before, scans_before = (commandstat(redis_client, c) for c in ("keys", "scan"))
    response = client.get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "staff" in html and "admin" in html and "(you)" in html
    assert html.count("End session") == 2
    assert re.search(r"\d+ min \(\d+ s\)", html)
    assert commandstat(redis_client, "keys") == keys_before
    assert commandstat(redis_client, "scan") > scans_before
    # Tokens are not shown on the page.
    assert SessionManager().get(staff_user.pk).session_token not in html


def test_sessions_page_shows_times_in_the_shops_zone(admin_user, redis_client, settings):
    settings.SHOP_TIME_ZONE = "Asia/Kathmandu"  # +0545 all year: no DST edge
    client = form_login("admin", "admin-pass-123")
    session = SessionManager().get(admin_user.pk)
    local = parse_iso(session.login_time).astimezone(ZoneInfo("Asia/Kathmandu"))
    html = client.get(PAGE).content.decode()
    assert f'datetime="{local.isoformat(timespec="seconds")}"' in html
    assert f"{local:%Y-%m-%d %H:%M:%S} +0545" in html
    assert "(UTC)" not in html


def test_sessions_page_staff_403_anonymous_redirect(staff_user, redis_client):
    assert Client().get(PAGE).status_code == 302
    assert form_login("staff", "staff-pass-123").get(PAGE).status_code == 403


def test_end_button_ends_session_with_csrf(admin_user, staff_user, redis_client):
    token = SessionManager().create(staff_user.pk).session_token
    client = form_login("admin", "admin-pass-123", enforce_csrf_checks=True)
    page = client.get(PAGE).content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    end_url = f"/dashboard/sessions/{staff_user.pk}/end/"
    assert f'action="{end_url}"' in page
    assert client.post(end_url).status_code == 403  # no CSRF token
    assert SessionManager().get(staff_user.pk) is not None
    response = client.post(end_url, {"csrfmiddlewaretoken": csrf})
    assert response.status_code == 302 and response["Location"] == PAGE
    assert SessionManager().get(staff_user.pk) is None
    assert SessionManager().authenticate(token) is None
    assert "ended" in client.get(PAGE).content.decode()


def test_end_button_admin_only(staff_user, other_staff_user, redis_client):
    SessionManager().create(other_staff_user.pk)
    client = form_login("staff", "staff-pass-123")
    assert client.post(f"/dashboard/sessions/{other_staff_user.pk}/end/").status_code == 403
    assert client.get(f"/dashboard/sessions/{staff_user.pk}/end/").status_code in (403, 405)
    assert SessionManager().get(other_staff_user.pk) is not None


def test_end_missing_session_says_so(admin_user, redis_client):
    client = form_login("admin", "admin-pass-123")
    response = client.post("/dashboard/sessions/424242/end/", follow=True)
    assert "had no active session" in response.content.decode()


def test_sessions_page_most_recent_activity_first(
    admin_user, staff_user, other_staff_user, redis_client
):
    client = form_login("admin", "admin-pass-123")
    SessionManager().create(staff_user.pk)
    time.sleep(0.01)
    SessionManager().create(other_staff_user.pk)
    time.sleep(0.01)
    SessionManager().touch(staff_user.pk)
    html = client.get(PAGE).content.decode()  # the admin's own request touches theirs last
    order = [html.index(f"#{u.pk}<") for u in (admin_user, staff_user, other_staff_user)]
    assert order == sorted(order)


def test_django_session_itself_lives_in_redis(staff_user, redis_client):
    client = form_login("staff", "staff-pass-123")
    session_key = client.cookies["sessionid"].value
    keys = list(redis_client.scan_iter(match=f"django:*{session_key}*"))
    assert len(keys) == 1 and redis_client.ttl(keys[0]) > 0
