import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from sessions_app.permissions import user_is_admin

pytestmark = pytest.mark.django_db


def test_create_admin_is_idempotent(monkeypatch):
    monkeypatch.setenv("SHOPSITE_ADMIN_USERNAME", "boss")
    monkeypatch.setenv("SHOPSITE_ADMIN_PASSWORD", "a-Long-admin-passphrase-42")
    call_command("create_admin")
    call_command("create_admin")
    assert User.objects.filter(username="boss").count() == 1
    user = authenticate(username="boss", password="a-Long-admin-passphrase-42")
    assert user is not None and user.is_staff and user.is_superuser
    assert user_is_admin(user) and user.groups.filter(name="admins").exists()
    # A changed password in the environment is applied on the next run.
    monkeypatch.setenv("SHOPSITE_ADMIN_PASSWORD", "another-Long-passphrase-43")
    call_command("create_admin")
    assert authenticate(username="boss", password="another-Long-passphrase-43") is not None


def test_create_admin_requires_env(monkeypatch):
    monkeypatch.delenv("SHOPSITE_ADMIN_USERNAME", raising=False)
    monkeypatch.delenv("SHOPSITE_ADMIN_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="SHOPSITE_ADMIN_USERNAME"):
        call_command("create_admin")


def test_create_admin_validates_password(monkeypatch):
    monkeypatch.setenv("SHOPSITE_ADMIN_USERNAME", "boss")
    monkeypatch.setenv("SHOPSITE_ADMIN_PASSWORD", "123")
    with pytest.raises(CommandError, match="SHOPSITE_ADMIN_PASSWORD"):
        call_command("create_admin")
    assert not User.objects.filter(username="boss").exists()
    call_command("create_admin", "--skip-password-validation")
    assert User.objects.get(username="boss").is_superuser
