import pytest
from django.conf import settings
from django.test import override_settings

from eventlog.management.commands.init_cassandra import init_cassandra
from shopsite.cassandra_client import get_session
from shopsite.management.commands.init_mongo import init_mongo
from tests import servicectl


def test_init_mongo_creates_category_index_and_is_idempotent(mongo):
    init_mongo()
    init_mongo()
    products = {ix["name"]: ix for ix in mongo["products"].list_indexes()}
    assert list(products["category"]["key"].keys())[0] == "category"
    orders = {ix["name"]: dict(ix["key"]) for ix in mongo["orders"].list_indexes()}
    assert orders["created_at"] == {"created_at": -1}
    assert orders["customer_created_at"] == {"customer": 1, "created_at": -1}


def test_init_cassandra_creates_tables_and_is_idempotent(cassandra_keyspace):
    init_cassandra()
    init_cassandra()
    rows = get_session().execute(
        "SELECT table_name FROM system_schema.tables WHERE keyspace_name = %s",
        [cassandra_keyspace],
    )
    assert {"events_by_type_day", "events_by_id", "event_buckets"} <= {r.table_name for r in rows}
    columns = get_session().execute(
        "SELECT column_name, kind FROM system_schema.columns "
        "WHERE keyspace_name = %s AND table_name = 'events_by_type_day'",
        [cassandra_keyspace],
    )
    kinds = {c.column_name: c.kind for c in columns}
    assert kinds["event_type"] == kinds["day"] == "partition_key"
    assert kinds["ts"] == "clustering"


def test_healthz_ok_when_all_backends_answer(client, mongo, redis_client, cassandra_keyspace):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    for name in ("mongodb", "redis", "cassandra"):
        assert body[name]["ok"] is True
        assert body[name]["latency_ms"] >= 0
    assert client.get("/healthz/").status_code == 200


@pytest.mark.fault
@pytest.mark.parametrize("service", ["redis", "mongodb", "cassandra", "postgres"])
def test_healthz_names_a_stopped_backend(client, service, mongo, redis_client, cassandra_keyspace):
    servicectl.require(service)
    backend = servicectl.app_backend(service)  # PostgreSQL down is FerretDB's MongoDB down
    with servicectl.stopped(service):
        response = client.get("/healthz")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "degraded"
        assert body[backend]["ok"] is False
        others = {"redis", "mongodb", "cassandra"} - {backend}
        assert all(body[name]["ok"] for name in others)
    # Recovers without restarting the process.
    for _ in range(40):
        if client.get("/healthz").status_code == 200:
            break
        import time

        time.sleep(0.5)
    assert client.get("/healthz").json()[backend]["ok"] is True


def test_dashboard_requires_login(client, db):
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert (
        response["Location"].startswith(settings.LOGIN_URL)
        or "/accounts/login/" in response["Location"]
    )


def test_dashboard_home_shows_health(client, staff_user, mongo, redis_client, cassandra_keyspace):
    client.force_login(staff_user)
    response = client.get("/dashboard/")
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("mongodb", "redis", "cassandra"):
        assert name in html


def test_docs_and_schema_are_open(client, db):
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200


@override_settings(BACKEND_TIMEOUT_SECONDS=1.0)
def test_settings_read_from_environment():
    assert settings.MONGODB_DB.startswith("shop_test_")
    assert settings.CASSANDRA_KEYSPACE.startswith("shopsite_test_")


def test_healthz_answers_while_the_process_exits(
    client, mongo, redis_client, cassandra_keyspace, monkeypatch
):
    """A worker stopped or aborted mid-request exits with requests in flight; its thread pools
    take no more work then, and /healthz checks one backend after the other instead of a 500."""
    from concurrent.futures import ThreadPoolExecutor

    from shopsite import health

    closed = ThreadPoolExecutor(max_workers=1)
    closed.shutdown()
    monkeypatch.setattr(health, "_pool", closed)
    response = client.get("/healthz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert all(body[name]["ok"] for name in ("mongodb", "redis", "cassandra", "outbox"))
