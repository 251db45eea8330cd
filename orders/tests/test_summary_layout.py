"""How the sales summaries are stored: each part's rows as one JSON string (cheap for FerretDB to
read), read back exactly as computed, and a store in an older layout rebuilt on first use."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from orders import repository, selectors, services, stats, summaries
from orders import summary_repository as store
from orders.figures import PARTS, count_between, moments, summarize, totals_between
from orders.summary_codec import PACKED_PARTS

pytestmark = pytest.mark.usefixtures("mongo", "redis_client")


def _place(product_ids, customer: str, created: datetime) -> dict:
    return services.order_place(
        customer=customer,
        items=[{"product_id": product_ids[0], "quantity": 2},
               {"product_id": product_ids[1], "quantity": 1}],
        user_id=None,
        created_at=created,
    )  # fmt: skip


def test_rows_are_stored_as_one_string_per_part_and_read_back_exactly(product_ids):
    created = datetime.now(UTC).replace(microsecond=123000) - timedelta(days=2)
    for name in ("Zoë", "A/B Trading", "Zoë"):
        _place(product_ids, name, created)
    summaries.refresh_all()
    hour, day = created.strftime("%Y-%m-%dT%H"), created.strftime("%Y-%m-%d")

    raw_hour = store.HOURS.collection().find_one({"_id": hour})
    raw_lines = store.DAY_LINES.collection().find_one({"_id": day})
    raw_customers = store.DAY_CUSTOMERS.collection().find_one({"_id": day})
    assert all(isinstance(raw_hour[part], str) for part in PACKED_PARTS)
    assert isinstance(raw_lines["products"], str) and isinstance(raw_lines["categories"], str)
    assert isinstance(raw_customers["customers"], str)
    assert raw_hour["orders"] == 3  # the figures stay plain fields

    expected = summarize(repository.find_hour(hour, summaries.ORDER_FIELDS))
    stored = store.stored_hour(hour)
    for part, key in PARTS.items():
        assert {row[key]: row for row in stored[part]} == {row[key]: row for row in expected[part]}
    latest = {row["product_id"]: row["last_at"] for row in stored["products"]}
    assert latest[product_ids[0]] == created  # a datetime again, to the millisecond
    _, lines, customers = store.stored_day(day)
    assert {row["customer"]: row["orders"] for row in customers["customers"]} == {
        "Zoë": 2, "A/B Trading": 1
    }  # fmt: skip
    assert {row["product_id"] for row in lines["products"]} == set(product_ids[:2])


def test_a_store_in_an_older_layout_is_rebuilt_on_first_use(product_ids):
    created = datetime.now(UTC) - timedelta(days=3)
    order = _place(product_ids, "Ada", created)
    summaries.refresh_all()
    day = order["day"]
    # What the previous layout left: rows as sub-documents, its own BUILT key, stale figures.
    store.META.collection().delete_many({})
    store.META.collection().insert_one({"_id": "built-hourly"})
    store.DAYS.collection().update_one({"_id": day}, {"$set": {"orders": 7}})
    store.DAY_CUSTOMERS.collection().update_one(
        {"_id": day},
        {"$set": {"customers": [{"customer": "Old", "orders": 7, "revenue_cents": 1}]}},
    )
    window = (created - timedelta(days=1), created + timedelta(days=1))

    assert stats.sold_totals(*window)["orders"] == 1
    assert [row["customer"] for row in stats.top_customers(*window)] == ["Ada"]
    assert store.is_built()
    summaries.refresh_all()
    assert isinstance(store.DAY_CUSTOMERS.collection().find_one({"_id": day})["customers"], str)
    assert store.stored_day(day)[0]["orders"] == 1


def test_moments_give_any_part_of_an_hour_at_microsecond_edges():
    base = datetime(2026, 3, 1, 10, tzinfo=UTC)
    docs = [
        {"created_at": base + timedelta(minutes=m, milliseconds=ms), "quantity": q,
         "total_cents": c}
        for m, ms, q, c in [(30, 0, 1, 100), (5, 250, 2, 250), (30, 0, 4, 400), (59, 999, 1, 9)]
    ]  # fmt: skip
    stored = moments(docs)
    assert [row[0] for row in stored] == sorted(row[0] for row in stored)
    half = base + timedelta(minutes=30)
    assert totals_between(stored, half, None) == {"orders": 3, "quantity": 6, "revenue_cents": 509}
    assert totals_between(stored, None, half) == {"orders": 1, "quantity": 2, "revenue_cents": 250}
    # since is inclusive, until exclusive, to the microsecond.
    assert count_between(stored, half + timedelta(microseconds=1), None) == 1
    assert count_between(stored, half - timedelta(microseconds=1), half) == 0
    assert count_between(stored, half, half + timedelta(microseconds=1)) == 2
    assert totals_between(stored, base + timedelta(hours=1), None) is None


def test_an_hour_stored_without_moments_is_read_from_its_orders(product_ids):
    created = datetime.now(UTC).replace(minute=20, second=0, microsecond=0) - timedelta(days=2)
    for minutes in (0, 30):
        _place(product_ids, "Ada", created + timedelta(minutes=minutes))
    summaries.refresh_all()
    hour = created.strftime("%Y-%m-%dT%H")
    assert len(store.stored_hour(hour)["moments"]) == 2
    store.HOURS.collection().update_one({"_id": hour}, {"$unset": {"moments": ""}})
    edge = created + timedelta(minutes=10)  # inside the hour: only the later order counts
    assert stats.sold_totals(edge, edge + timedelta(days=1))["orders"] == 1
    assert selectors.orders_count_since(days=2) == len(
        [m for m in (created, created + timedelta(minutes=30)) if m >= datetime.now(UTC)
         - timedelta(days=2)]
    )  # fmt: skip
    call_command("rebuild_summaries", "--verify")  # an older layout is not a difference


def test_concurrent_first_reads_of_an_unbuilt_store_all_answer(product_ids):
    """FerretDB's upsert reads, then inserts: two first reads setting BUILT at once must not
    fail (one got E11000 and a 500 in the soak)."""
    _place(product_ids, "Ada", datetime.now(UTC) - timedelta(days=1))
    results, errors = [], []

    def first_read():
        try:
            results.append(stats.customer_totals("Ada")["orders"])
        except Exception as exc:  # reported below
            errors.append(exc)

    for _ in range(3):
        store.META.collection().delete_many({})
        threads = [threading.Thread(target=first_read) for _ in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not errors and results == [1] * 36
    assert store.is_built()
