"""Security review checks that span the apps (issue: robustness evidence)."""

import hmac
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from conftest import find_leaks
from sessions_app import manager as manager_module
from sessions_app.manager import SessionManager

ROOT = Path(__file__).resolve().parent.parent


def test_leak_finder_sees_a_password_and_a_token_in_log_lines():
    token = "A" * 43
    assert find_leaks(["login ok for staff"], [token]) == []
    assert find_leaks(["oops staff-pass-123 in a log"], []) == ["staff-pass-123"]
    assert find_leaks([f"Authorization: Bearer {token}"], [token]) == ["session token AAAAAA..."]


def test_bearer_tokens_are_compared_in_constant_time(monkeypatch, staff_user, redis_client):
    calls = []
    real_compare = hmac.compare_digest

    def spy(a, b):
        calls.append(1)
        return real_compare(a, b)

    monkeypatch.setattr(manager_module.hmac, "compare_digest", spy)
    token = SessionManager().create(staff_user.pk).session_token
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get(f"/session/{staff_user.pk}/").status_code == 200
    assert calls, "token check did not go through hmac.compare_digest"
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token[:-1]}x")
    assert client.get(f"/session/{staff_user.pk}/").status_code == 401


def test_production_settings_hash_passwords_with_pbkdf2():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "shopsite.settings", "SECRET_KEY": "k" * 60}
    env.pop("DEBUG", None)
    code = (
        "import django; django.setup();"
        "from django.contrib.auth.hashers import make_password;"
        "print(make_password('correct horse battery staple').split('$')[0])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() in {"pbkdf2_sha256", "argon2", "scrypt"}


def test_production_settings_refuse_to_start_without_secret_key():
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    env["DJANGO_SETTINGS_MODULE"] = "shopsite.settings"
    env.pop("SHOPSITE_ALLOW_INSECURE_KEY", None)
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_stored_passwords_are_hashes(staff_user):
    stored = User.objects.get(pk=staff_user.pk).password
    assert "staff-pass-123" not in stored
    assert stored.count("$") >= 2


ADMIN_API = [
    ("get", "/backups/"),
    ("post", "/backups/"),
    ("get", "/backups/anything/"),
    ("delete", "/logs/old/?days=30"),
]
ADMIN_PAGES = ["/dashboard/sessions/", "/dashboard/backups/"]


@pytest.mark.parametrize("method,path", ADMIN_API)
def test_admin_only_api_refuses_staff(method, path, staff_client, mongo, cassandra_keyspace):
    response = getattr(staff_client, method)(path)
    assert response.status_code == 403, (path, response.status_code)


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_only_pages_refuse_staff(path, client, staff_user, redis_client):
    client.force_login(staff_user)
    assert client.get(path).status_code == 403
