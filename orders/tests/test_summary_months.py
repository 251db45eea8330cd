"""Month summaries: long windows read a document per whole clean month, and stay exact while a
month is dirty, after a past-dated import, and in a store built before months existed."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from orders import services, stats, summaries
from orders import summary_repository as store
from orders.stats import _days_in_month
from orders.tests.conftest import on_the_wire
from orders.tests.test_stats_reads import Listener
from orders.tests.test_summaries import expected_sold

pytestmark = pytest.mark.usefixtures("mongo", "redis_client")

# Three whole calendar months well before today, and windows over them with edges inside days.
FIRST = (datetime.now(UTC).replace(day=1) - timedelta(days=100)).replace(
    day=1, hour=0, minute=0, second=0, microsecond=0
)
AFTER = (FIRST + timedelta(days=95)).replace(day=1)  # the first day of the fourth month
WINDOWS = [
    (FIRST, AFTER),  # exactly three months
    (FIRST - timedelta(hours=30, minutes=7), AFTER + timedelta(days=2, hours=5)),
    (FIRST + timedelta(days=20, minutes=3), AFTER - timedelta(days=1, seconds=1)),
]


def _import(product_ids, rng, count: int) -> None:
    span = (AFTER - FIRST + timedelta(days=4)).total_seconds()
    orders = [
        {
            "customer": rng.choice(["Ada", "Bob", "Zoë", "A/B Trading"]),
            "items": [{"product_id": pid, "quantity": rng.randint(1, 4)}
                      for pid in rng.sample(product_ids, rng.randint(1, 3))],
            "created_at": FIRST - timedelta(days=2) + timedelta(seconds=rng.uniform(0, span)),
        }
        for _ in range(count)
    ]  # fmt: skip
    services.orders_place_bulk(orders=orders, user_id=None)


def _assert_exact() -> None:
    for start, end in WINDOWS:
        assert stats.sold_totals(start, end) == expected_sold(start, end), (start, end)
        for by in stats.BREAKDOWNS:
            assert stats.sold_breakdown(start, end, by) == expected_sold(start, end, by), by
        assert stats.top_customers(start, end, limit=100) == expected_sold(start, end, "customers")


def test_long_windows_match_plain_pipelines_clean_dirty_and_after_an_import(product_ids):
    rng = random.Random(7)
    _import(product_ids, rng, 60)
    _assert_exact()  # every hour dirty: read from the orders
    summaries.refresh_all()
    months = {f"{day:%Y-%m}" for day in (FIRST, FIRST + timedelta(days=40), AFTER - timedelta(1))}
    assert set(store.all_summary_months()) >= months
    _assert_exact()  # whole months from the month summaries
    _import(product_ids, rng, 15)  # past-dated: its months are dirty until the next refresh
    _assert_exact()
    summaries.refresh_all()
    _assert_exact()
    call_command("rebuild_summaries", "--verify")


def test_a_whole_clean_month_is_read_from_its_summary_and_verified(product_ids, capsys):
    _import(product_ids, random.Random(8), 20)
    summaries.refresh_all()
    month = f"{FIRST:%Y-%m}"
    month_end = (FIRST + timedelta(days=32)).replace(day=1)
    truth = expected_sold(FIRST, month_end)
    store.MONTHS.collection().update_one({"_id": month}, {"$inc": {"orders": 1000}})
    # The month's own document answers (so the tampering shows); by day never reads months.
    assert stats.sold_totals(FIRST, month_end)["orders"] == truth["orders"] + 1000
    assert (
        sum(r["orders"] for r in stats.sold_breakdown(FIRST, month_end, "day")) == truth["orders"]
    )
    with pytest.raises(CommandError):
        call_command("rebuild_summaries", "--verify")
    assert f"month {month}" in capsys.readouterr().out
    call_command("rebuild_summaries")
    assert stats.sold_totals(FIRST, month_end) == truth


def test_a_store_from_before_months_gets_them_from_its_days(product_ids):
    _import(product_ids, random.Random(9), 20)
    summaries.refresh_all()
    for kind in store.PER_MONTH:
        kind.collection().delete_many({})
    store.META.collection().delete_one({"_id": store.MONTHS_BUILT})
    assert not summaries.months_ready()
    _assert_exact()  # whole days only until the months are built
    summaries.refresh_all()
    assert summaries.months_ready()
    assert store.stored_month(f"{FIRST:%Y-%m}")["orders"] > 0
    _assert_exact()
    call_command("rebuild_summaries", "--verify")


def test_a_months_window_reads_only_its_months(product_ids, monkeypatch):
    """Twelve stored months of a year; a window of one whole month fetches that one month's
    document (by `_id`), a window of the whole year its year's (by `year`)."""
    year = FIRST.year - 1
    orders = [
        {"customer": f"c{month}", "created_at": datetime(year, month, 15, 12, tzinfo=UTC),
         "items": [{"product_id": product_ids[0], "quantity": 1}]}
        for month in range(1, 13)
    ]  # fmt: skip
    services.orders_place_bulk(orders=orders, user_id=None)
    summaries.refresh_all()
    listener = Listener()
    with on_the_wire(listener, monkeypatch, modules=(store,)):
        june = (datetime(year, 6, 1, tzinfo=UTC), datetime(year, 7, 1, tzinfo=UTC))
        assert [row["customer"] for row in stats.top_customers(*june)] == ["c6"]
        assert listener.returned[store.MONTH_CUSTOMERS.COLLECTION] == 1
        assert listener.returned[store.DAY_CUSTOMERS.COLLECTION] == 0
        listener.clear()
        whole = (datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC))
        assert len(stats.top_customers(*whole, limit=20)) == 12
        assert listener.returned[store.MONTH_CUSTOMERS.COLLECTION] == 12
        assert listener.returned[store.DAY_CUSTOMERS.COLLECTION] == 0


@pytest.mark.parametrize(
    ("month", "days"),
    [("2024-02", 29), ("2025-02", 28), ("1900-02", 28), ("2000-02", 29), ("2026-12", 31),
     ("2026-04", 30), ("0001-01", 31), ("9999-12", 31)],
)  # fmt: skip
def test_days_in_month(month, days):
    assert _days_in_month(month) == days
