"""Bearer API calls skip the browser middleware; pages, cookie calls and outages are unchanged."""

import pytest
from django.test import Client

from shopsite.apps import check_browser_cookies, check_browser_middleware

pytestmark = pytest.mark.django_db


def bearer(staff_token: str, **extra) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {staff_token}", **extra}


def test_bearer_api_call_skips_the_browser_middleware(client, staff_user, staff_token):
    response = client.get(f"/session/{staff_user.pk}/", **bearer(staff_token))
    assert response.status_code == 200
    request = response.wsgi_request
    assert not hasattr(request, "session") and not hasattr(request, "_messages")
    assert "Cookie" not in response.get("Vary", "")
    # What every response gets is still there.
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert int(response["Content-Length"]) == len(response.content)


def test_bearer_call_needs_no_csrf_token_but_a_cookie_call_does(
    staff_user, other_staff_user, staff_token
):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(other_staff_user)
    assert browser.put(f"/session/{other_staff_user.pk}/").status_code == 403  # CSRF, as before
    api = Client(enforce_csrf_checks=True)
    assert api.put(f"/session/{staff_user.pk}/", **bearer(staff_token)).status_code == 200


def test_bearer_header_on_a_page_still_runs_the_browser_middleware(staff_user, staff_token):
    browser = Client()
    browser.force_login(staff_user)
    response = browser.get("/dashboard/sessions/", **bearer(staff_token))
    assert response.status_code == 403  # a staff user on an admin page: the cookie login decided
    assert hasattr(response.wsgi_request, "session")
    assert (
        Client().get("/dashboard/", **bearer(staff_token)).status_code == 302
    )  # to the login page


def test_bearer_call_with_a_bad_host_is_400(client, staff_user, staff_token):
    response = client.get(
        f"/session/{staff_user.pk}/", HTTP_HOST="evil.example", **bearer(staff_token)
    )
    assert response.status_code == 400


def test_bearer_call_while_redis_is_down_is_503_naming_it(
    client, staff_user, staff_token, settings
):
    from shopsite import redis_client

    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    redis_client.close()
    try:
        response = client.get(f"/session/{staff_user.pk}/", **bearer(staff_token))
    finally:
        del settings.REDIS_URL
        redis_client.close()
    assert response.status_code == 503
    assert response.json() == {"detail": "redis unavailable"}


@pytest.mark.parametrize(
    "accept,query,status,content_type",
    [
        (None, "", 200, "application/json"),
        ("*/*", "", 200, "application/json"),
        ("application/json", "", 200, "application/json"),
        ("application/json; indent=2", "", 200, "application/json"),
        ("text/html", "", 406, "application/json"),
        ("*/*", "?format=json", 200, "application/json"),
    ],
)
def test_json_only_views_negotiate_as_before(
    client, staff_user, staff_token, accept, query, status, content_type
):
    headers = bearer(staff_token) if accept is None else bearer(staff_token, HTTP_ACCEPT=accept)
    response = client.get(f"/session/{staff_user.pk}/{query}", **headers)
    assert response.status_code == status
    assert response["Content-Type"] == content_type


def test_csv_list_views_still_negotiate(client, staff_token, mongo):
    response = client.get("/products/", **bearer(staff_token, HTTP_ACCEPT="text/csv"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")


def test_browser_middleware_check(settings):
    assert check_browser_middleware() == []
    settings.BROWSER_MIDDLEWARE = [
        m for m in settings.BROWSER_MIDDLEWARE if "sessions.middleware" not in m and "csrf" not in m
    ]
    assert [e.id for e in check_browser_middleware()] == ["shopsite.E410", "shopsite.W003"]


def test_cookie_deploy_checks_still_run(settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    assert check_browser_cookies() == []
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    assert [w.id for w in check_browser_cookies()] == ["security.W012", "security.W016"]
