"""The sales figures stay exact whatever happens to the writes, in any time zone.

Orders arrive as past-dated bulk imports and from 16 threads at once, while other threads cancel
a random share of them and another keeps folding the ledger; one purchase and one cancel die in
a process killed right after their decision (the recovery finishes them). Then every stats
answer (random windows with edges inside days, each `by`, top customers, every customer) is
compared with the same figures computed from `orders` by plain pipelines over the orders that
are not cancelled, with the shop's day boundaries taken from zoneinfo, and `rebuild_summaries
--verify` finds no difference. Run in UTC and in Australia/Adelaide (+09:30/+10:30).
"""

import json
import os
import random
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import call_command

from catalog.exceptions import StockConflict
from orders import repository, sales, services, stats

SEED = 20261207
CUSTOMERS = ["Ada", "Bob", "Zoë", "A/B Trading", "carol", "Dave+Sons", "Eve"]
ANCHOR = datetime.now(UTC).replace(microsecond=0)
ROOT = Path(__file__).resolve().parents[2]
LIVE = {"status": {"$ne": "cancelled"}}

pytestmark = pytest.mark.usefixtures("mongo", "redis_client")


def _random_order(rng, product_ids, *, past: bool) -> dict:
    created = None
    if past:
        created = ANCHOR - timedelta(days=rng.randint(0, 20), seconds=rng.randint(0, 86399))
        created = created.replace(microsecond=rng.randint(0, 999) * 1000)
    items = [
        {"product_id": pid, "quantity": rng.randint(1, 5)}
        for pid in rng.sample(product_ids, rng.randint(1, 3))
    ]
    return {"customer": rng.choice(CUSTOMERS), "items": items, "created_at": created}


# --- the plain-pipeline oracle over `orders` ---------------------------------------------------
# One accumulator per pipeline (FerretDB v1 fills only the first), joined by group key.


def _sum(match: dict, key, operand, unwind: bool = False) -> dict:
    pipeline = [{"$match": {**match, **LIVE}}, *([{"$unwind": "$items"}] if unwind else [])]
    pipeline.append({"$group": {"_id": key, "v": {"$sum": operand}}})
    return {row["_id"]: row["v"] for row in repository.orders().aggregate(pipeline)}


def _totals(start, end) -> dict:
    match = {"created_at": {"$gte": start, "$lt": end}}
    return {
        "total_quantity": _sum(match, None, "$quantity").get(None, 0),
        "orders": _sum(match, None, 1).get(None, 0),
        "revenue_cents": _sum(match, None, "$total_cents").get(None, 0),
    }


def _local_days(start, end):
    """(day, from, to): the shop's days meeting [start, end), bounds from zoneinfo."""
    zone = ZoneInfo(settings.SHOP_TIME_ZONE)
    day = start.astimezone(zone).date()
    while True:
        begins = datetime.combine(day, datetime.min.time(), tzinfo=zone).astimezone(UTC)
        following = day + timedelta(days=1)
        ends = datetime.combine(following, datetime.min.time(), tzinfo=zone).astimezone(UTC)
        if begins >= end:
            return
        yield day, max(begins, start), min(ends, end)
        day = following


def expected_sold(start, end, by=None):
    if by is None:
        return _totals(start, end)
    if by in ("day", "weekday"):
        rows = []
        for day, a, b in _local_days(start, end):
            totals = _totals(a, b) if a < b else {"orders": 0}
            if totals["orders"]:
                rows.append(
                    {"day": day.isoformat(), "orders": totals["orders"],
                     "quantity": totals["total_quantity"],
                     "revenue_cents": totals["revenue_cents"]}
                )  # fmt: skip
        if by == "day":
            return rows
        return stats.by_weekday(rows)  # a fold of the day rows above, itself checked below
    match = {"created_at": {"$gte": start, "$lt": end}}
    if by == "customers":
        counts, revenue = _sum(match, "$customer", 1), _sum(match, "$customer", "$total_cents")
        rows = [{"customer": c, "orders": counts[c], "revenue_cents": revenue[c]} for c in counts]
        return sorted(rows, key=lambda row: (-row["revenue_cents"], row["customer"]))
    key = "$items.product_id" if by == "product" else "$items.category"
    quantity = _sum(match, key, "$items.quantity", unwind=True)
    revenue = _sum(match, key, "$items.line_total_cents", unwind=True)
    if by == "category":
        rows = [
            {"category": k, "quantity": quantity[k], "revenue_cents": revenue[k]} for k in revenue
        ]
        return sorted(rows, key=lambda row: (-row["revenue_cents"], row["category"]))
    names = {}
    for doc in repository.orders().find(match):
        for item in doc["items"]:
            names[item["product_id"]] = item["name"]  # one name per product in these tests
    rows = [
        {"product_id": k, "name": names[k], "quantity": quantity[k], "revenue_cents": revenue[k]}
        for k in revenue
    ]
    return sorted(rows, key=lambda row: (-row["revenue_cents"], row["product_id"]))


def expected_customer(name):
    match = {"customer": name}
    count = _sum(match, None, 1).get(None, 0)
    if not count:
        return None
    total = _sum(match, None, "$total_cents")[None]
    times = [doc["created_at"] for doc in repository.orders().find({**match, **LIVE})]
    return {"orders": count, "total_spent_cents": total, "first_order_at": min(times),
            "last_order_at": max(times)}  # fmt: skip


def random_windows(rng):
    zone = ZoneInfo(settings.SHOP_TIME_ZONE)
    today = ANCHOR.astimezone(zone).date()
    midnight = datetime.combine(today, datetime.min.time(), tzinfo=zone).astimezone(UTC)
    windows = [
        (ANCHOR - timedelta(days=30), ANCHOR + timedelta(days=1)),  # everything
        (ANCHOR - timedelta(days=400), ANCHOR - timedelta(days=300)),  # nothing
        (midnight - timedelta(days=5), midnight - timedelta(days=2)),  # whole shop days
        (sales.day_start(today - timedelta(days=40)), sales.day_start(today)),  # whole months
    ]
    for _ in range(10):
        start = ANCHOR - timedelta(days=rng.randint(0, 22), seconds=rng.randint(0, 86399))
        length = rng.choice(
            [
                timedelta(0),
                timedelta(hours=rng.randint(1, 30)),
                timedelta(days=rng.randint(1, 15), minutes=rng.randint(0, 1440)),
            ]
        )
        start = start.replace(microsecond=rng.randint(0, 999) * 1000)  # fmt: skip
        windows.append((start, start + length))
    return windows


def assert_every_answer_matches(rng):
    for start, end in random_windows(rng):
        assert stats.sold_totals(start, end) == expected_sold(start, end), (start, end)
        for by in stats.BREAKDOWNS:
            assert stats.sold_breakdown(start, end, by) == expected_sold(start, end, by), by
        assert stats.top_customers(start, end, limit=100) == expected_sold(start, end, "customers")
    for name in [*CUSTOMERS, "nobody"]:
        expected = expected_customer(name)
        got = stats.customer_totals(name)
        if expected is None:
            assert got is None, name
            continue
        assert {key: got[key] for key in expected} == expected, name


def test_weekday_rows_are_the_day_rows_folded():
    rows = [
        {"day": "2026-12-07", "orders": 2, "quantity": 3, "revenue_cents": 400},  # a Monday
        {"day": "2026-12-13", "orders": 1, "quantity": 1, "revenue_cents": 50},  # a Sunday
        {"day": "2026-12-14", "orders": 1, "quantity": 2, "revenue_cents": 100},  # a Monday
    ]
    assert stats.by_weekday(rows) == [
        {"weekday": 1, "name": "Monday", "orders": 3, "quantity": 5, "revenue_cents": 500},
        {"weekday": 7, "name": "Sunday", "orders": 1, "quantity": 1, "revenue_cents": 50},
    ]
    assert date(2026, 12, 7).isoweekday() == 1


# --- a process killed right after a decision ----------------------------------------------------

KILLED = """
import json, sys
import django
django.setup()
from shopsite import faults
from orders import services
from shopsite.timeutil import parse_iso

faults.arm(sys.argv[1])
payload = json.loads(sys.argv[2])
if sys.argv[1] == "after_commit":
    for order in payload:
        order["created_at"] = order["created_at"] and parse_iso(order["created_at"])
    services.orders_place_bulk(orders=payload, user_id=None)
else:
    services.order_cancel(order_id=payload, user_id=None, reason="killed")
"""


def run_killed(step: str, payload, tmp_path) -> None:
    """Run a purchase or a cancel in a new process that exits at `step` (a fault point)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "shopsite.settings_test",
        "FAULT_INJECTION_FILE": str(tmp_path / f"fault-{step}"),
        "SHOP_TIME_ZONE": settings.SHOP_TIME_ZONE,
    }
    result = subprocess.run(
        [sys.executable, "-c", KILLED, step, json.dumps(payload, default=str)],
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert result.returncode == 70, "the process did not die at " + step


@pytest.mark.parametrize("zone", ["UTC", "Australia/Adelaide"])
def test_every_stats_answer_matches_plain_pipelines_after_races_cancels_and_kills(
    product_ids, tmp_path, zone, settings
):
    settings.SHOP_TIME_ZONE = zone  # pytest-django's `settings`: restored after the test
    sales.rebuild()  # the store moved to this zone
    rng = random.Random(SEED)
    placed: list[str] = []
    for _ in range(3):  # past-dated bulk imports, with the figures already in use
        batch = [_random_order(rng, product_ids, past=True) for _ in range(25)]
        placed += [doc["_id"] for doc in services.orders_place_bulk(orders=batch, user_id=None)]
        stats.sold_totals(ANCHOR - timedelta(days=30), ANCHOR + timedelta(days=1))

    # 16 threads placing orders (now and past-dated), 4 cancelling a share of what is placed,
    # one folding the ledger all along.
    stop = threading.Event()
    errors: list[BaseException] = []
    lock = threading.Lock()

    def guarded(work):
        def run(*args):
            try:
                work(*args)
            except BaseException as exc:  # reported below
                errors.append(exc)

        return run

    @guarded
    def keep_folding():
        while not stop.is_set():
            sales.fold()

    @guarded
    def writer(seed):
        local = random.Random(seed)
        for _ in range(3):
            order = _random_order(local, product_ids, past=local.random() < 0.5)
            try:
                doc = services.order_place(**order, user_id=None)
            except StockConflict:
                continue
            with lock:
                placed.append(doc["_id"])

    @guarded
    def canceller(seed):
        local = random.Random(seed)
        for _ in range(8):
            with lock:
                chosen = local.choice(placed)
            services.order_cancel(order_id=str(chosen), user_id=None, reason="oracle")
            time.sleep(0.01)

    threads = [threading.Thread(target=keep_folding)]
    threads += [threading.Thread(target=writer, args=(SEED + n,)) for n in range(16)]
    threads += [threading.Thread(target=canceller, args=(SEED * 2 + n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads[1:]:
        thread.join()
    stop.set()
    threads[0].join()
    assert not errors, errors

    # A bulk import dies right after its commit, a cancel right after its decision.
    killed = [_random_order(rng, product_ids, past=True) for _ in range(4)]
    run_killed("after_commit", killed, tmp_path)
    alive = next(str(i) for i in placed if repository.find_by_id(i).get("status") == "placed")
    run_killed("after_status_decided", alive, tmp_path)
    assert repository.find_by_id(repository.parse_id(alive))["status"] == "placed"
    assert services.order_intents_recover(older_than_seconds=0)["placed"] == 1
    assert services.order_status_changes_recover(older_than_seconds=0) == 1
    assert repository.find_by_id(repository.parse_id(alive))["status"] == "cancelled"

    assert repository.orders().count_documents({}) == 75 + 48 + 4
    cancelled = repository.orders().count_documents({"status": "cancelled"})
    assert 5 < cancelled < 40
    assert_every_answer_matches(rng)
    call_command("rebuild_summaries", "--verify")
