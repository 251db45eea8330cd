"""Keeping the sales summaries fresh: the refresh command, the worker's periodic refresh, a busy
hour left for its holder, and reads that never wait for (or write) a recompute."""

import threading
import time
from datetime import timedelta

import pytest
from django.core.management import call_command

from orders import selectors, services, stats, summaries
from orders import summary_repository as store

pytestmark = pytest.mark.usefixtures("mongo", "redis_client")


def test_refresh_summaries_clears_every_dirty_marker(product_ids, capsys):
    for name in ("Ada", "Bob"):
        services.order_place(
            customer=name, items=[{"product_id": product_ids[1], "quantity": 1}], user_id=None
        )
    assert store.dirty_customer_names() == {"Ada", "Bob"}
    hours = store.dirty_hours()
    assert hours and all(len(hour) == 13 for hour in hours)
    call_command("refresh_summaries")
    assert f"{len(hours) + 2} hours and customers recomputed" in capsys.readouterr().out
    assert not store.dirty_customer_names() and not store.dirty_hours()
    assert store.customer("Bob")["orders"] == 1


def test_the_worker_refreshes_customers_nobody_looks_up(product_ids, settings):
    from eventlog import periodic

    assert ("orders.summaries.refresh_all", settings.SALES_SUMMARY_REFRESH_EVERY_SECONDS) in (
        settings.WORKER_PERIODIC_TASKS
    )
    services.order_place(
        customer="Zoë", items=[{"product_id": product_ids[0], "quantity": 2}], user_id=None
    )
    assert store.dirty_customer_names() == {"Zoë"}
    stop = threading.Event()
    threads = periodic.start(stop)  # every task runs once at start-up
    try:
        deadline = time.monotonic() + 30
        while store.dirty_customer_names() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert not store.dirty_customer_names() and not store.dirty_hours()
    assert store.customer("Zoë")["orders"] == 1


def test_refresh_all_goes_past_a_busy_hour(product_ids, settings):
    settings.SUMMARY_LOCK_WAIT_SECONDS = 0.2
    order = services.order_place(
        customer="Eve", items=[{"product_id": product_ids[2], "quantity": 1}], user_id=None
    )
    hour = order["hour"]
    with summaries._locked("hour:" + hour):  # another process is recomputing this hour
        summaries.refresh_all()
    assert store.dirty_customer_names() == set()  # the customer after it was still refreshed
    assert store.customer("Eve")["orders"] == 1
    assert store.dirty_hours() == {hour}  # the busy hour stays dirty for its holder
    summaries.refresh_all()
    assert store.dirty_hours() == set()


def test_reads_never_wait_for_a_recompute_and_stay_exact(product_ids, settings):
    """A hot hour's lock held by a (stuck) recompute: reads neither wait nor answer 503; they
    summarise the dirty hour from its orders, and write nothing."""
    settings.SUMMARY_LOCK_WAIT_SECONDS = 30
    first = services.order_place(
        customer="Ada", items=[{"product_id": product_ids[0], "quantity": 2}], user_id=None
    )
    summaries.refresh_all()
    second = services.order_place(
        customer="Ada", items=[{"product_id": product_ids[0], "quantity": 3}], user_id=None
    )
    window = (first["created_at"] - timedelta(days=1), second["created_at"] + timedelta(hours=1))
    with summaries._locked("hour:" + second["hour"]), summaries._locked("customer:Ada"):
        began = time.monotonic()
        assert stats.sold_totals(*window)["total_quantity"] == 5
        assert stats.sold_breakdown(*window, "product")[0]["quantity"] == 5
        assert stats.customer_totals("Ada")["orders"] == 2
        assert selectors.orders_page_since(days=2)[0] == 2
        assert [doc["_id"] for doc in selectors.orders_recent(limit=2)] == [
            second["_id"], first["_id"],
        ]  # fmt: skip
        assert time.monotonic() - began < 10  # far below the lock wait
    assert second["hour"] in store.dirty_hours()  # the reads recomputed (wrote) nothing
    assert store.customer("Ada")["orders"] == 1
