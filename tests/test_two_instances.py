"""Stateless web: two gunicorn instances on two ports, against the same stores, behave as one.

Sessions, login limits, stock locks and the outbox all live in Redis (and the data in MongoDB and
Cassandra), so a token issued by one instance works on the other, a logout on one ends it on
both, failed logins count across both, and concurrent orders split between them never oversell
and give exactly one `order_created` event per order once the worker has drained the outbox.
"""

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.conf import settings

from bench.server import PASSWORD, USERNAME, production_server
from eventlog.manager import get_log_manager
from eventlog.worker import OutboxWorker

STOCK, ATTEMPTS = 12, 30


@pytest.fixture
def two_instances(tmp_path, mongo, redis_client, cassandra_keyspace):
    env = {
        # The test run's own database, Redis db and keyspace (see settings_test).
        "DJANGO_SETTINGS_MODULE": "shopsite.settings_test",
        "SHOPSITE_TEST_ID": settings.TEST_ID,
        "TEST_REDIS_URL": settings.REDIS_URL,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'web.sqlite3'}",
        "LOG_LEVEL": "WARNING",
    }
    with (
        production_server(workers=1, threads=8, env=env) as a,
        production_server(workers=1, threads=8, env=env) as b,
    ):
        yield a.url, b.url


def login(url: str, password: str = PASSWORD) -> httpx.Response:
    return httpx.post(f"{url}/auth/login/", json={"username": USERNAME, "password": password})


def order_id_of(metadata: str | None) -> str | None:
    """The order id in an order_created event's metadata (other tests log free-form ones)."""
    try:
        return json.loads(metadata or "{}").get("order_id")
    except (ValueError, AttributeError):
        return None


def test_two_instances_behave_as_one(two_instances):
    a, b = two_instances
    token = login(a).json()["session_token"]
    auth = {"Authorization": f"Bearer {token}"}

    # A session made on one instance is known to the other.
    assert httpx.get(f"{b}/products/", headers=auth).status_code == 200
    product = httpx.post(
        f"{b}/products/",
        headers=auth,
        json={"name": "Two-instance kettle", "category": "scale", "price": "9.50", "stock": STOCK},
    ).json()

    # Concurrent orders, alternating between the instances: the stock lock is shared.
    def order(i: int) -> httpx.Response:
        return httpx.post(
            f"{(a, b)[i % 2]}/orders/",
            headers=auth,
            json={"customer": f"Twin {i}", "items": [{"product_id": product["id"], "quantity": 1}]},
            timeout=60,
        )

    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(order, range(ATTEMPTS)))
    codes = Counter(r.status_code for r in responses)
    assert codes == {201: STOCK, 409: ATTEMPTS - STOCK}, codes
    placed = {r.json()["id"] for r in responses if r.status_code == 201}
    served_by = Counter(i % 2 for i, r in enumerate(responses) if r.status_code == 201)
    assert set(served_by) == {0, 1}, "both instances placed orders"
    for url in (a, b):
        assert httpx.get(f"{url}/products/{product['id']}/", headers=auth).json()["stock"] == 0

    # The outbox both instances wrote to, drained into Cassandra: one event per order.
    OutboxWorker().drain(timeout=120)
    events = get_log_manager().recent("order_created", hours=1, limit=100_000)
    per_order = Counter(order_id_of(e.metadata) for e in events)
    assert {oid: per_order[oid] for oid in placed} == dict.fromkeys(placed, 1)

    # Logging out on one instance ends the session on both.
    assert httpx.post(f"{b}/auth/logout/", headers=auth).status_code == 204
    assert httpx.get(f"{a}/products/", headers=auth).status_code == 401

    # Failed logins count across instances: the limit holds even for the right password.
    for i in range(settings.LOGIN_MAX_FAILURES_PER_USER):
        assert login((a, b)[i % 2], password="wrong-password").status_code == 401
    assert login(b).status_code == 429
    assert login(a).status_code == 429
