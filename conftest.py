"""Fixtures shared by every app's tests: the real services, isolated per test run."""

import logging
import os
import re

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient

from sessions_app.permissions import ADMINS_GROUP
from tests import servicectl


def pytest_configure(config):
    # Parallel workers sharing one database, keyspace and Redis db would empty each other's data
    # mid-test: scripts/test.sh gives each worker its own SHOPSITE_TEST_ID and Redis db.
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and not (
        settings.TEST_ID.endswith(f"_{worker}") and os.environ.get("SHOPSITE_TEST_REDIS_DB")
    ):
        raise pytest.UsageError(
            "parallel workers need a test id and Redis db each: run them through scripts/test.sh"
        )


# An ObjectId or UUID made at import time for a parameter differs between xdist workers, which
# must all collect the same test names: such ids show as <id>.
_RANDOM_ID = re.compile(r"[0-9a-f]{24}|[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}")


def pytest_make_parametrize_id(config, val, argname):
    if isinstance(val, str) and _RANDOM_ID.search(val):
        return _RANDOM_ID.sub("<id>", val)
    return None


def pytest_collection_modifyitems(config, items):
    # Tests marked slow first (the order is otherwise kept): with parallel workers, a test that
    # holds its worker for minutes would end the run that much later if it started last.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def _require(name: str) -> None:
    if not servicectl.answers(name):
        pytest.fail(
            f"{name} is not answering on 127.0.0.1:{servicectl.PORTS[name]}: "
            "start the services with `scripts/services.sh up` (make test does it)",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def _mongo_session():
    _require("mongodb")
    from shopsite.management.commands.init_mongo import init_mongo
    from shopsite.mongo import get_client

    get_client().drop_database(settings.MONGODB_DB)
    init_mongo()
    yield
    get_client().drop_database(settings.MONGODB_DB)


@pytest.fixture
def mongo(_mongo_session):
    """The test run's own MongoDB database, emptied before each test (indexes kept)."""
    from shopsite.management.commands.init_mongo import initialize_derived
    from shopsite.mongo import get_db

    db = get_db()
    for name in db.list_collection_names():
        db[name].delete_many({})
    initialize_derived()  # a new store, as init_mongo leaves it
    return db


@pytest.fixture
def redis_client():
    """The test run's own Redis database, flushed before each test."""
    _require("redis")
    from shopsite.redis_client import get_redis

    client = get_redis()
    client.flushdb()
    return client


@pytest.fixture(scope="session")
def cassandra_keyspace():
    """The test run's own keyspace, created once."""
    _require("cassandra")
    from eventlog.management.commands.init_cassandra import init_cassandra

    init_cassandra()
    return settings.CASSANDRA_KEYSPACE


@pytest.fixture
def staff_user(db):
    return User.objects.create_user("staff", "staff@example.com", "staff-pass-123", is_staff=True)


@pytest.fixture
def other_staff_user(db):
    return User.objects.create_user("staff2", "staff2@example.com", "staff-pass-456", is_staff=True)


@pytest.fixture
def admin_user(db):
    user = User.objects.create_user("admin", "admin@example.com", "admin-pass-123", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name=ADMINS_GROUP)[0])
    return user


@pytest.fixture
def plain_user(db):
    return User.objects.create_user("customer", "c@example.com", "plain-pass-123")


@pytest.fixture
def anon_client():
    return APIClient()


@pytest.fixture
def staff_client(staff_user, redis_client):
    client = APIClient()
    client.force_authenticate(staff_user)
    return client


@pytest.fixture
def staff_token(staff_user, redis_client) -> str:
    """A bearer token of the staff user, from POST /auth/login/ (its session carries claims)."""
    response = APIClient().post(
        "/auth/login/", {"username": "staff", "password": "staff-pass-123"}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()["session_token"]


@pytest.fixture
def staff_browser(client, staff_user, redis_client):
    """Django's test client signed in to the dashboard as staff (cookie session)."""
    client.force_login(staff_user)
    return client


@pytest.fixture
def admin_client(admin_user, redis_client):
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


# --- No secret in any log line the suite produces -------------------------------------------------
# Passwords the fixtures use, and every session token issued during the run, are checked against
# every log record emitted while the tests ran (at the configured levels).
FIXTURE_PASSWORDS = ("staff-pass-123", "staff-pass-456", "admin-pass-123", "plain-pass-123")


class _RecordingHandler(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        try:
            line = self.format(record)
        except Exception:  # keep the raw parts of a record that cannot format
            line = f"{record.name} {record.msg!r} {record.args!r}"
        self.lines.append(line)


def find_leaks(lines: list[str], tokens: list[str]) -> list[str]:
    text = "\n".join(lines)
    leaked = [p for p in FIXTURE_PASSWORDS if p in text]
    return leaked + [f"session token {t[:6]}..." for t in tokens if t in text]


@pytest.fixture(scope="session", autouse=True)
def no_secrets_in_logs():
    from sessions_app.manager import SessionManager

    handler = _RecordingHandler()
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    logging.getLogger().addHandler(handler)
    issued: list[str] = []
    original_create = SessionManager.create

    def create_and_remember(self, *args, **kwargs):
        session = original_create(self, *args, **kwargs)
        issued.append(session.session_token)
        return session

    SessionManager.create = create_and_remember
    yield
    SessionManager.create = original_create
    logging.getLogger().removeHandler(handler)
    leaked = find_leaks(handler.lines, issued)
    assert not leaked, f"secrets in log output: {leaked}"
