"""The sales summaries stay exact whatever happens to the writes.

Orders arrive as past-dated bulk imports, from 20 threads at once while another thread keeps
recomputing the summaries, and from a process SIGKILLed between its order insert and the
summary step. Then every stats answer (random windows with edges inside days, each `by`, top
customers, every customer) is compared with the same figures computed from `orders` by plain
pipelines, and `rebuild_summaries --verify` finds no difference.
"""

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from orders import repository, selectors, services, stats, summaries
from orders import summary_repository as store

SEED = 20261130
CUSTOMERS = ["Ada", "Bob", "Zoë", "A/B Trading", "carol", "Dave+Sons", "Eve"]
ANCHOR = datetime.now(UTC).replace(microsecond=0)
ROOT = Path(__file__).resolve().parents[2]

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
    pipeline = [{"$match": match}, *([{"$unwind": "$items"}] if unwind else [])]
    pipeline.append({"$group": {"_id": key, "v": {"$sum": operand}}})
    return {row["_id"]: row["v"] for row in repository.orders().aggregate(pipeline)}


def expected_sold(start, end, by=None):
    match = {"created_at": {"$gte": start, "$lt": end}}
    if by is None:
        return {
            "total_quantity": _sum(match, None, "$quantity").get(None, 0),
            "orders": _sum(match, None, 1).get(None, 0),
            "revenue_cents": _sum(match, None, "$total_cents").get(None, 0),
        }
    if by == "day":
        counts = _sum(match, "$day", 1)
        quantity, revenue = _sum(match, "$day", "$quantity"), _sum(match, "$day", "$total_cents")
        return [
            {"day": day, "orders": counts[day], "quantity": quantity[day],
             "revenue_cents": revenue[day]}
            for day in sorted(counts)
        ]  # fmt: skip
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
    latest = {}
    for doc in repository.orders().find(match).sort([("created_at", 1), ("_id", 1)]):
        for item in doc["items"]:
            latest[item["product_id"]] = item["name"]
    rows = [
        {"product_id": k, "name": latest[k], "quantity": quantity[k], "revenue_cents": revenue[k]}
        for k in revenue
    ]
    return sorted(rows, key=lambda row: (-row["revenue_cents"], row["product_id"]))


def expected_customer(name):
    match = {"customer": name}
    count = _sum(match, None, 1).get(None, 0)
    if not count:
        return None
    total = _sum(match, None, "$total_cents")[None]
    times = [doc["created_at"] for doc in repository.orders().find(match, {"created_at": 1})]
    return {"orders": count, "total_spent_cents": total, "first_order_at": min(times),
            "last_order_at": max(times)}  # fmt: skip


def random_windows(rng):
    windows = [
        (ANCHOR - timedelta(days=30), ANCHOR + timedelta(days=1)),  # everything
        (ANCHOR - timedelta(days=400), ANCHOR - timedelta(days=300)),  # nothing
    ]
    midnight = datetime.combine(ANCHOR.date(), datetime.min.time(), tzinfo=UTC)
    windows.append((midnight - timedelta(days=5), midnight - timedelta(days=2)))  # whole days
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
            assert got is None
            continue
        assert {key: got[key] for key in expected} == expected, name


# --- the scenario -------------------------------------------------------------------------------

KILLED_WRITER = """
import json, os, sys, time
import django
django.setup()
from orders import repository, services

def pause(docs):
    with open(sys.argv[1], "w") as handle:
        handle.write(json.dumps([str(doc["_id"]) for doc in docs]))
    time.sleep(600)  # killed here: the orders are stored, the summary step never runs

repository.AFTER_INSERT_HOOK = pause
orders = json.loads(sys.argv[2])
for order in orders:
    if order["created_at"]:
        from shopsite.timeutil import parse_iso
        order["created_at"] = parse_iso(order["created_at"])
services.orders_place_bulk(orders=orders, user_id=None)
"""


def run_killed_writer(orders: list[dict], tmp_path) -> list[str]:
    """Place `orders` in a new process and SIGKILL it right after the order insert."""
    signal_file = tmp_path / "inserted.json"
    body = [{**order, "created_at": order["created_at"] and order["created_at"].isoformat()}
            for order in orders]  # fmt: skip
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "shopsite.settings_test"}
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(signal_file), json.dumps(body)],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 120
        while not signal_file.exists() or not signal_file.read_text():
            assert process.poll() is None, "the writer ended before its insert"
            assert time.monotonic() < deadline, "the writer never reached its insert"
            time.sleep(0.05)
        # Between the insert and the summary step: a recompute now must not lose these orders.
        summaries.refresh_all()
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    return json.loads(signal_file.read_text())


def test_every_stats_answer_matches_plain_pipelines_after_races_imports_and_a_kill(
    product_ids, tmp_path
):
    rng = random.Random(SEED)
    # Past-dated bulk imports, with summaries already in use.
    for _ in range(3):
        batch = [_random_order(rng, product_ids, past=True) for _ in range(25)]
        services.orders_place_bulk(orders=batch, user_id=None)
        stats.sold_totals(ANCHOR - timedelta(days=30), ANCHOR + timedelta(days=1))

    # 20 threads placing orders (now and past-dated) while another keeps recomputing.
    stop = threading.Event()
    refresh_errors = []

    def keep_refreshing():
        while not stop.is_set():
            try:
                summaries.refresh_all()
            except Exception as exc:  # reported below
                refresh_errors.append(exc)

    def writer(seed):
        local = random.Random(seed)
        for _ in range(3):
            order = _random_order(local, product_ids, past=local.random() < 0.5)
            services.order_place(**order, user_id=None)

    refresher = threading.Thread(target=keep_refreshing)
    refresher.start()
    threads = [threading.Thread(target=writer, args=(SEED + n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    refresher.join()
    assert not refresh_errors

    # A writer killed between its insert and the summary step.
    killed = [_random_order(rng, product_ids, past=True) for _ in range(4)]
    inserted = run_killed_writer(killed, tmp_path)
    assert (
        repository.orders().count_documents(
            {"_id": {"$in": [repository.parse_id(i) for i in inserted]}}
        )
        == 4
    )

    assert repository.orders().count_documents({}) == 75 + 60 + 4
    assert_every_answer_matches(rng)
    call_command("rebuild_summaries", "--verify")


def test_recompute_before_a_pending_insert_lands_keeps_the_day_dirty():
    """The writer's first marker is down, a recompute runs before its insert lands, then the
    writer dies before its second marker: the day and the customer must still be recomputed."""
    day = "2026-03-04"
    created = datetime(2026, 3, 4, 12, tzinfo=UTC)
    doc = {"_id": repository.parse_id("65f000000000000000000001"), "customer": "late",
           "created_at": created, "day": day, "hour": "2026-03-04T12", "items": [],
           "total_cents": 700, "quantity": 0, "created_by": ""}  # fmt: skip
    store.mark_pending([doc])
    summaries.refresh_all()  # sees the marker, not the order: must keep the marker
    repository.orders().insert_one(doc)  # the insert lands; its process dies right after
    window = (created - timedelta(days=1), created + timedelta(days=1))
    assert stats.sold_totals(*window)["revenue_cents"] == 700
    assert stats.customer_totals("late")["total_spent_cents"] == 700


def test_a_stale_summary_marked_clean_is_reported_and_rebuilt(product_ids, capsys):
    order = services.order_place(
        customer="Ada", items=[{"product_id": product_ids[0], "quantity": 2}], user_id=None
    )
    summaries.refresh_all()
    call_command("rebuild_summaries", "--verify")
    # Tamper with a summary behind the code's back.
    store.DAYS.collection().update_one({"_id": order["day"]}, {"$set": {"orders": 99}})
    store.HOURS.collection().update_one({"_id": order["hour"]}, {"$set": {"revenue_cents": 1}})
    store.CUSTOMERS.collection().update_one({"_id": "Ada"}, {"$set": {"orders": 7}})
    with pytest.raises(CommandError):
        call_command("rebuild_summaries", "--verify")
    out = capsys.readouterr().out
    assert f"day {order['day']}" in out and f"hour {order['hour']}" in out and "Ada" in out
    call_command("rebuild_summaries")  # recomputes from the orders, even without markers
    call_command("rebuild_summaries", "--verify")
    assert store.customer("Ada")["orders"] == 1
    assert stats.sold_breakdown(order["created_at"], order["created_at"] + timedelta(days=1),
                                "day")[0]["orders"] == 1  # fmt: skip


def test_summaries_missing_are_rebuilt_on_first_read():
    """Orders written without the repository (a restore of a backup from before orders carried
    their hour, a script): the first read gives them their hour and rebuilds."""
    created = ANCHOR - timedelta(days=3)
    repository.orders().insert_one(
        {"customer": "raw", "created_at": created, "day": created.strftime("%Y-%m-%d"),
         "items": [], "total_cents": 250, "quantity": 0, "created_by": ""}
    )  # fmt: skip
    assert selectors.orders_count_since(days=30) == 1
    assert stats.customer_totals("raw")["orders"] == 1
    assert store.is_built()
    assert repository.orders().find_one({"customer": "raw"})["hour"] == created.strftime(
        "%Y-%m-%dT%H"
    )


def test_after_a_restore_the_summaries_are_rebuilt_from_the_orders(product_ids):
    """restore_mongo replaces `orders` (and never archives the derived `sales_*` collections):
    it invalidates the summaries, and the next read recomputes them from the restored orders."""
    order = services.order_place(
        customer="Ada", items=[{"product_id": product_ids[0], "quantity": 2}], user_id=None
    )
    window = (order["created_at"] - timedelta(days=2), order["created_at"] + timedelta(days=2))
    assert stats.sold_totals(*window)["orders"] == 1
    repository.orders().delete_many({})  # what a restore of an older backup does
    services.sales_summaries_invalidate()
    assert stats.sold_totals(*window)["orders"] == 0
    assert stats.customer_totals("Ada") is None
    assert services.SUMMARY_COLLECTION_PREFIX == "sales_"
    assert all(kind.COLLECTION.startswith("sales_") for kind in store.ALL)
