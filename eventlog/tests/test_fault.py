"""Fault tests: real outages of Cassandra and Redis (they stop shared services; run rarely).

.venv/bin/pytest eventlog/tests/test_fault.py -m fault
"""

import json
import logging
import statistics
import time
import uuid

import pytest
from django.conf import settings
from django.test import Client

from eventlog.services import event_record
from eventlog.worker import OutboxWorker
from tests import servicectl

logger = logging.getLogger(__name__)

pytestmark = [pytest.mark.fault, pytest.mark.django_db]

ORDERS = 50
# How much slower than with Cassandra up an order may be while it is down (a small margin).
MARGIN_SECONDS = 0.5


def _orders_api_available() -> bool:
    try:
        from orders.services import order_place  # noqa: F401
    except ImportError:
        return False
    return True


def _place_order(client, product_id: str) -> tuple[float, dict]:
    started = time.perf_counter()
    response = client.post(
        "/orders/",
        {"customer": "fault-test", "items": [{"product_id": product_id, "quantity": 1}]},
        format="json",
    )
    elapsed = time.perf_counter() - started
    assert response.status_code == 201, response.content
    return elapsed, response.json()


def _order_created(log_manager) -> list:
    return log_manager.recent("order_created", hours=1, limit=10_000)


def test_orders_while_cassandra_is_down_are_all_logged_once(
    staff_client, staff_user, mongo, outbox, running_worker, log_manager
):
    assert _orders_api_available(), "orders.services.order_place is needed for this test"
    product = staff_client.post(
        "/products/",
        {"name": "Fault widget", "category": "test", "price": "1.00", "stock": 1000},
        format="json",
    )
    assert product.status_code == 201, product.content
    product_id = product.json()["id"]

    # Normal speed, with Cassandra up (and the worker writing the events as they come).
    baseline = [_place_order(staff_client, product_id)[0] for _ in range(10)]
    deadline = time.monotonic() + 30
    while outbox.xlen(settings.EVENT_OUTBOX_STREAM) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(_order_created(log_manager)) == 10
    log_manager.truncate()
    written_before = running_worker.stats.written

    order_ids, timings = [], []
    with servicectl.stopped("cassandra"):
        for _ in range(ORDERS):
            elapsed, order = _place_order(staff_client, product_id)
            timings.append(elapsed)
            order_ids.append(order["id"])
        # The log API itself says which backend is missing.
        response = staff_client.post("/logs/", {"user_id": "1", "event_type": "x"}, format="json")
        assert response.status_code == 503 and response.json() == {
            "detail": "cassandra unavailable"
        }
        response = staff_client.get("/logs/?event_type=order_created")
        assert response.status_code == 503 and "cassandra" in response.json()["detail"]
        browser = Client()
        browser.force_login(staff_user)
        page = browser.get("/dashboard/events/?event_type=order_created", HTTP_ACCEPT="text/html")
        assert page.status_code == 503 and b"cassandra" in page.content
        time.sleep(2)  # the worker keeps retrying meanwhile, acknowledging nothing
        assert running_worker.stats.retries >= 1
        assert running_worker.stats.written == written_before
    logger.info(
        "order POST ms: baseline median %.1f max %.1f; Cassandra down median %.1f max %.1f",
        statistics.median(baseline) * 1000,
        max(baseline) * 1000,
        statistics.median(timings) * 1000,
        max(timings) * 1000,
    )
    assert max(timings) < max(baseline) + MARGIN_SECONDS, (baseline, timings)
    assert statistics.median(timings) < statistics.median(baseline) + MARGIN_SECONDS

    # Cassandra is back (servicectl waited for it): the running worker catches up.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if len(_order_created(log_manager)) >= ORDERS:
                break
        except Exception:  # the driver may still be reconnecting
            pass
        time.sleep(0.5)
    time.sleep(1)  # nothing more arrives afterwards
    entries = _order_created(log_manager)
    logged = [json.loads(e.metadata)["order_id"] for e in entries]
    assert len(entries) == ORDERS
    assert sorted(logged) == sorted(order_ids)
    assert len({e.event_id for e in entries}) == ORDERS
    assert outbox.xlen(settings.EVENT_OUTBOX_STREAM) == 0


def test_events_recorded_while_redis_is_down_are_spooled_then_stored(outbox, log_manager):
    with servicectl.stopped("redis"):
        started = time.perf_counter()
        ids = [event_record(event_type="login_failed", user_id=i) for i in range(20)]
        elapsed = time.perf_counter() - started
        spooled = sorted(settings.EVENT_SPOOL_DIR.iterdir())
        assert len(spooled) == 1 and len(spooled[0].read_text().splitlines()) == 20
    assert elapsed < 2.0  # a refused connection is immediate: no request waits on the outage
    stats = OutboxWorker().drain(timeout=60)
    assert stats.spooled == 20
    entries = log_manager.recent("login_failed", hours=1, limit=100)
    assert sorted(str(e.event_id) for e in entries) == sorted(ids)
    assert all(log_manager.get(uuid.UUID(i)) is not None for i in ids)
