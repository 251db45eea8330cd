"""Fixtures shared by every app's tests: the real services, isolated per test run."""

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient

from sessions_app.permissions import ADMINS_GROUP
from tests import servicectl


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
    from shopsite.mongo import get_db

    db = get_db()
    for name in db.list_collection_names():
        db[name].delete_many({})
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
def admin_client(admin_user, redis_client):
    client = APIClient()
    client.force_authenticate(admin_user)
    return client
