"""Security of the dashboard and its settings: roles on every dashboard page, CSRF on every form,
security headers, cookie flags, and `check --deploy` clean with production settings."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from catalog import services as catalog_services

ROOT = Path(settings.BASE_DIR)
ADMIN_PREFIXES = ("dashboard/sessions/", "dashboard/backups/", "dashboard/events/purge/")
PLACEHOLDER = "000000000000000000000000"  # a well-formed id that exists nowhere


def _routes(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def dashboard_paths() -> list[str]:
    """Every dashboard page, path parameters filled with a placeholder."""
    routes = [r for r in _routes(get_resolver().url_patterns) if r.startswith("dashboard/")]
    return sorted({"/" + re.sub(r"<(?:\w+:)?\w+>", PLACEHOLDER, r) for r in routes})


def _is_admin_page(path: str) -> bool:
    return path.lstrip("/").startswith(ADMIN_PREFIXES)


def _request(client, path):
    """GET, or POST for a page that takes only POST."""
    response = client.get(path, HTTP_ACCEPT="text/html")
    if response.status_code == 405:
        response = client.post(path, HTTP_ACCEPT="text/html")
    return response


@pytest.fixture
def stores(mongo, redis_client, cassandra_keyspace):
    return mongo


def test_dashboard_has_pages():
    paths = dashboard_paths()
    assert "/dashboard/" in paths
    assert {"/dashboard/sessions/", "/dashboard/backups/"} <= set(paths)


@pytest.mark.parametrize("path", dashboard_paths())
def test_anonymous_user_gets_the_login_page(client, db, redis_client, path):
    response = _request(client, path)
    assert response.status_code == 302, path
    assert response["Location"].startswith("/accounts/login/?next="), path


@pytest.mark.parametrize("path", dashboard_paths())
def test_non_staff_user_gets_403(client, plain_user, stores, path):
    client.force_login(plain_user)
    response = _request(client, path)
    assert response.status_code == 403, path
    assert b"Not allowed" in response.content


@pytest.mark.parametrize("path", [p for p in dashboard_paths() if _is_admin_page(p)])
def test_staff_user_gets_403_on_admin_pages(client, staff_user, stores, path):
    client.force_login(staff_user)
    assert _request(client, path).status_code == 403, path


def test_admin_nav_links_only_for_admins(client, staff_user, admin_user, stores):
    client.force_login(staff_user)
    html = client.get("/dashboard/").content.decode()
    assert 'href="/dashboard/backups/"' not in html and 'href="/dashboard/sessions/"' not in html
    client.force_login(admin_user)
    html = client.get("/dashboard/").content.decode()
    assert 'href="/dashboard/backups/"' in html and 'href="/dashboard/sessions/"' in html


class TestCsrf:
    def _post_forms(self, html: str) -> list[str]:
        return re.findall(r"<form\b[^>]*method=\"post\"[^>]*>.*?</form>", html, re.S | re.I)

    def test_every_post_form_carries_a_csrf_token(self, client, admin_user, stores):
        product = catalog_services.product_create(
            name="Lamp", category="Home", price_cents=999, stock=3, user_id=None
        )
        client.force_login(admin_user)
        pages = [p for p in dashboard_paths() if PLACEHOLDER not in p]
        pages += [
            f"/dashboard/products/{product['_id']}/edit/",
            f"/dashboard/products/{product['_id']}/delete/",
            f"/dashboard/products/{product['_id']}/stock/",
        ]
        checked = 0
        for path in pages:
            response = client.get(path, HTTP_ACCEPT="text/html")
            if response.status_code != 200 or "html" not in response["Content-Type"]:
                continue
            for form in self._post_forms(response.content.decode()):
                assert 'name="csrfmiddlewaretoken"' in form, f"{path}: {form[:200]}"
                checked += 1
        assert checked >= 5  # logout on every page, plus the pages' own forms

    def test_login_form_has_csrf_token(self, client, db, redis_client):
        html = client.get("/accounts/login/").content.decode()
        (form,) = self._post_forms(html)
        assert 'name="csrfmiddlewaretoken"' in form

    def test_post_without_token_is_rejected(self, staff_user, stores):
        client = Client(enforce_csrf_checks=True)
        client.force_login(staff_user)
        response = client.post("/dashboard/products/new/", {"name": "X"})
        assert response.status_code == 403
        response = client.post("/accounts/logout/")
        assert response.status_code == 403
        assert client.get("/dashboard/").status_code == 200  # still signed in

    def test_htmx_requests_send_the_token(self, client, staff_user, stores):
        client.force_login(staff_user)
        html = client.get("/dashboard/").content.decode()
        token = re.search(r"hx-headers='\{\"X-CSRFToken\": \"([^\"]+)\"\}'", html)
        assert token and len(token.group(1)) >= 32


class TestHeaders:
    def test_security_headers_on_pages(self, client, db, redis_client):
        response = client.get("/accounts/login/")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"

    @override_settings(
        SECURE_HSTS_SECONDS=31536000,
        SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
        SECURE_SSL_REDIRECT=True,
        SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
    )
    def test_https_redirect_and_hsts_behind_a_tls_proxy(self, client, db, redis_client):
        plain = client.get("/accounts/login/")
        assert plain.status_code == 301
        assert plain["Location"].startswith("https://")
        secure = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
        assert secure.status_code == 200
        assert secure["Strict-Transport-Security"].startswith("max-age=31536000")
        # Health probes over plain http inside the deployment's network are not redirected.
        assert client.get("/healthz").status_code in (200, 503)


def _production_env(**overrides) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SHOPSITE_", "DJANGO_", "SECURE_", "DEBUG", "SECRET_KEY"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="shopsite.settings",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="shop.example.com",
        SECURE_HSTS_SECONDS="31536000",
        SECURE_SSL_REDIRECT="true",
        SECURE_COOKIES="true",
        BEHIND_TLS_PROXY="true",
    )
    env.update(overrides)
    return env


def _check_deploy(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = _check_deploy(_production_env())
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output
    assert "WARNING" not in output


def test_check_deploy_catches_missing_hardening():
    """The check above is meaningful: without HSTS and secure cookies it fails."""
    result = _check_deploy(_production_env(SECURE_HSTS_SECONDS="0", SECURE_COOKIES="false"))
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "security.W004" in output and "security.W012" in output


def test_production_cookie_flags():
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({k: getattr(s, k) for k in ('SESSION_COOKIE_SECURE', "
        "'CSRF_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', 'SESSION_COOKIE_SAMESITE', "
        "'SECURE_PROXY_SSL_HEADER', 'DEBUG')}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_production_env(SECURE_COOKIES=""),  # unset: follows DEBUG=false
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    flags = json.loads(result.stdout.strip().splitlines()[-1])
    assert flags == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "DEBUG": False,
    }


@override_settings(SESSION_COOKIE_SECURE=True, CSRF_COOKIE_SECURE=True)
def test_login_sets_secure_httponly_session_cookie(client, staff_user, redis_client):
    client.get("/accounts/login/")
    response = client.post(
        "/accounts/login/",
        {"username": "staff", "password": "staff-pass-123"},
        HTTP_X_FORWARDED_PROTO="https",
    )
    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"
    assert response.cookies[settings.CSRF_COOKIE_NAME]["secure"]
