"""The sales ledger's protocol (docs/sales-summaries.md) under the failures it claims to survive:
a pass killed at each step, a read racing a pass, a rebuild racing a write, a change of time
zone; reads of a new, an unfolded and an unbuilt store never write; one walk per request."""

import importlib
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from orders import repository, sales, services, stats
from orders.sales import store
from orders.tests.conftest import Commands, on_the_wire
from shopsite.timeutil import iso

# The package's surface shadows its modules' names (sales.fold is the function).
fold = importlib.import_module("orders.sales.fold")
read = importlib.import_module("orders.sales.read")

pytestmark = pytest.mark.usefixtures("mongo", "redis_client")
WINDOW = (datetime(2020, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
WRITES = {"insert", "update", "delete", "findAndModify", "createIndexes", "drop"}


def place(product_ids, n: int, customer: str = "Ada") -> list[dict]:
    """Single purchases (they leave their entries unfolded: the worker folds them)."""
    return [
        services.order_place(
            customer=customer,
            items=[{"product_id": product_ids[i % len(product_ids)], "quantity": 1 + i % 3}],
            user_id=None,
        )
        for i in range(n)
    ]


def truth() -> dict:
    docs = [d for d in repository.orders().find({}) if d.get("status") != "cancelled"]
    return {
        "orders": len(docs),
        "total_quantity": sum(d["quantity"] for d in docs),
        "revenue_cents": sum(d["total_cents"] for d in docs),
    }


def test_single_purchases_count_at_once_and_a_pass_folds_them(product_ids):
    place(product_ids, 3)
    assert len(store.unfolded()) == 3
    assert stats.sold_totals(*WINDOW) == truth()  # from the entries, before any pass
    assert sales.fold() == 3
    assert store.unfolded() == []
    assert stats.sold_totals(*WINDOW) == truth()
    assert sales.verify() == []


@pytest.mark.parametrize("step", ["stamp", "first write", "third write", "recording done"])
def test_a_pass_killed_at_any_step_leaves_every_figure_exact(product_ids, monkeypatch, step):
    sales.fold()
    place(product_ids, 4)
    order = place(product_ids, 1, customer="Bob")[0]
    services.order_cancel(order_id=str(order["_id"]), user_id=None)

    class Killed(Exception):
        pass

    writes = []

    def put(kind, key, doc, _put=store.put):
        writes.append(key)
        if (step == "first write" and len(writes) == 1) or (
            step == "third write" and len(writes) == 3
        ):
            raise Killed()
        _put(kind, key, doc)

    def die(*args, **kwargs):
        raise Killed()

    if step == "stamp":
        monkeypatch.setattr(store, "stamp", die)
    elif step == "recording done":
        set_state = store.set_state
        monkeypatch.setattr(
            store, "set_state", lambda **f: die() if "done" in f else set_state(**f)
        )
    else:
        monkeypatch.setattr(store, "put", put)
    with pytest.raises(Killed):
        sales.fold()
    assert stats.sold_totals(*WINDOW) == truth()  # mid-way: reads stay exact
    assert stats.customer_totals("Bob") is None
    monkeypatch.undo()
    sales.fold()
    assert stats.sold_totals(*WINDOW) == truth()
    assert sales.verify() == []


def test_a_read_racing_a_pass_is_exact(product_ids, monkeypatch):
    """The summaries are read, then a whole pass folds new entries into them, then the read
    adds the entries: those of the pass that ran meanwhile are found by its number."""
    sales.fold()
    place(product_ids, 3)
    finish = read.Reader.finish

    def finish_after_a_pass(self):
        fold.fold()
        place(product_ids, 1)  # and one more, unfolded
        return finish(self)

    monkeypatch.setattr(read.Reader, "finish", finish_after_a_pass)
    got = stats.sold_totals(*WINDOW)
    monkeypatch.undo()
    assert got == truth()


def test_a_pass_between_the_ledger_queries_of_a_read_is_exact(product_ids, monkeypatch):
    """A whole pass takes and folds entries after the read found them untaken and before it
    reads `next`: they count once (the summaries were read before the pass wrote them)."""
    sales.fold()
    place(product_ids, 3)
    unfolded = store.unfolded
    ran = []

    def unfolded_then_a_pass():
        found = unfolded()
        if not ran:
            ran.append("reader")
            monkeypatch.setattr(store, "unfolded", unfolded)  # the pass's own query
            ran.append(fold.fold())
        return found

    monkeypatch.setattr(store, "unfolded", unfolded_then_a_pass)
    got = stats.sold_totals(*WINDOW)
    monkeypatch.undo()
    assert ran == ["reader", 3]
    assert got == truth()


def test_a_pass_overtaken_stops_writing(product_ids):
    """A pass whose number is no longer the last started (its lock expired and another began)
    raises PassLost before writing on."""
    place(product_ids, 1)
    with fold._pass_lock(0) as lock:
        number = store.state()["next"]
        store.set_state(next=number + 2)  # another pass started meanwhile
        with pytest.raises(fold.PassLost):
            fold._check_still_ours(number, lock)


def test_a_rebuild_sees_what_the_scan_missed(product_ids, monkeypatch):
    """Orders stored, and a status written, while the rebuild scans: the ledger has them."""
    place(product_ids, 3)
    scan = repository.scan_all
    extra = {}

    def scan_then_write():
        docs = list(scan())
        extra["order"] = place(product_ids, 1, customer="Late")[0]  # stored after the scan
        services.order_cancel(order_id=str(docs[0]["_id"]), user_id=None)  # written after it
        return iter(docs)

    monkeypatch.setattr(repository, "scan_all", scan_then_write)
    sales.rebuild()
    monkeypatch.undo()
    assert stats.sold_totals(*WINDOW) == truth()
    assert stats.customer_totals("Late")["orders"] == 1
    assert sales.verify() == []


def test_a_new_time_zone_answers_503_until_refreshed(product_ids, settings, staff_client):
    place(product_ids, 2)
    settings.SHOP_TIME_ZONE = "Asia/Kathmandu"
    response = staff_client.get("/stats/sold/")
    assert response.status_code == 503
    assert response.json()["detail"].startswith("sales figures unavailable")
    assert response["Retry-After"]
    call_command("refresh_summaries")
    body = staff_client.get("/stats/sold/?by=day").json()
    assert body["time_zone"] == "Asia/Kathmandu" and body["orders"] == 2
    assert store.state()["time_zone"] == "Asia/Kathmandu"


def test_after_a_restore_the_figures_are_rebuilt_from_the_orders(product_ids):
    order = place(product_ids, 1)[0]
    assert stats.sold_totals(*WINDOW)["orders"] == 1
    repository.orders().delete_many({})  # what a restore of an older backup does
    services.sales_summaries_invalidate()
    with pytest.raises(sales.Rebuilding):
        stats.sold_totals(*WINDOW)
    services.sales_summaries_refresh()
    assert stats.sold_totals(*WINDOW)["orders"] == 0
    assert stats.customer_totals(order["customer"]) is None
    assert services.SUMMARY_COLLECTION_PREFIX == "sales_"
    assert all(kind.COLLECTION.startswith("sales_") for kind in store.ALL)


GETS = [
    "/stats/sold/",
    "/stats/sold/?by=product",
    "/stats/sold/?by=day",
    "/stats/sold/?by=weekday",
    "/stats/customer/Ada",
    "/orders/",
    "/orders/?status=cancelled",
    "/orders/recent/",
    "/dashboard/sales/",
    "/dashboard/",
]


@pytest.mark.parametrize("store_state", ["new", "unfolded", "unbuilt"])
def test_reads_never_write(
    product_ids, monkeypatch, staff_client, staff_browser, cassandra_keyspace, store_state
):
    if store_state != "new":
        place(product_ids, 3)
        order = place(product_ids, 1)[0]
        services.order_cancel(order_id=str(order["_id"]), user_id=None)
    if store_state == "unbuilt":
        store.set_state(layout=None)
    listener = Commands()
    with on_the_wire(listener, monkeypatch, (repository, store)):
        for path in GETS:
            client = staff_browser if path.startswith("/dashboard/") else staff_client
            response = client.get(path)
            wanted = 503 if store_state == "unbuilt" and "stats/sold" in path else None
            assert wanted is None or response.status_code == wanted, path
            assert response.status_code in (200, 404, 503), (path, response.status_code)
    written = [(name, body.get(name)) for name, body in listener.seen if name in WRITES]
    assert written == []
    assert any(name == "find" for name, _ in listener.seen)


def test_one_walk_per_request(product_ids, monkeypatch, staff_client, staff_browser):
    """Totals and breakdown of /stats/sold/?by= come from one walk: no summary is read twice."""
    place(product_ids, 3)
    sales.fold()
    for path in ("/stats/sold/?by=product", "/stats/sold/?by=day", "/dashboard/sales/"):
        listener = Commands()
        client = staff_browser if path.startswith("/dashboard/") else staff_client
        with on_the_wire(listener, monkeypatch, (repository, store)):
            assert client.get(path).status_code == 200
        reads = [
            (body["find"], repr(body.get("filter")))
            for name, body in listener.seen
            if name == "find" and body["find"] not in (store.STATE.COLLECTION,)
        ]
        repeated = {read for read in reads if reads.count(read) > 1}
        if path == "/dashboard/sales/":  # and a figures-only walk of the previous period
            previous = (store.DAYS.COLLECTION, store.LEDGER.COLLECTION)
            repeated = {r for r in repeated if r[0] not in previous}
        assert not repeated, (path, repeated)
        monkeypatch.undo()


def test_a_ledger_entry_is_decided_once(product_ids):
    order = place(product_ids, 1)[0]
    first = sales.status_decide(order, "fulfilled", at=datetime.now(UTC), reason=None, user_id=1)
    second = sales.status_decide(order, "cancelled", at=datetime.now(UTC), reason="x", user_id=2)
    assert first["status"] == second["status"] == "fulfilled"


def test_reads_use_the_stats_read_preference(product_ids, settings, monkeypatch):
    """MONGODB_STATS_READ_PREFERENCE moves the figures' reads (in one causally consistent session:
    each read sees what the one before saw, on any member); folds stay on the primary."""
    place(product_ids, 2)
    calls = []
    stats_db = store.stats_db

    def counted():
        calls.append(1)
        return stats_db()

    monkeypatch.setattr(store, "stats_db", counted)
    assert stats.sold_totals(*WINDOW)["orders"] == 2
    assert not calls  # primary, the default: the plain database
    settings.MONGODB_STATS_READ_PREFERENCE = "secondaryPreferred"
    assert stats.sold_totals(*WINDOW) == truth()
    assert stats.customer_totals("Ada")["orders"] == 2
    assert calls
    reads = len(calls)
    sales.fold()
    assert len(calls) == reads


@pytest.mark.parametrize("zone", ["Australia/Adelaide", "Asia/Kathmandu", "UTC"])
def test_order_lists_walk_every_order_newest_first_in_any_zone(
    product_ids, settings, staff_client, zone
):
    """Small shop days are read whole by the UTC days they meet, big ones hour by hour: pages
    still give every order of the window once, newest first."""
    settings.SHOP_TIME_ZONE = zone
    sales.rebuild()
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)
    moments = [now - timedelta(hours=h, minutes=(7 * h) % 60) for h in range(0, 100, 2)]
    moments += [now - timedelta(days=2, minutes=m) for m in range(150)]  # one busy stretch
    services.orders_place_bulk(
        orders=[
            {
                "customer": "W",
                "created_at": moment,
                "items": [{"product_id": product_ids[0], "quantity": 1}],
            }
            for moment in moments
        ],  # fmt: skip
        user_id=None,
    )
    since = datetime.now(UTC) - timedelta(days=3)
    expected = sorted((m for m in moments if m >= since), reverse=True)
    seen, url = [], "/orders/?days=3&page_size=40"
    while url:
        body = staff_client.get(url).json()
        assert body["count"] == len(expected)
        seen += [order["created_at"] for order in body["results"]]
        url = body["next"]
    assert seen == [iso(moment) for moment in expected]
    recent = staff_client.get("/orders/recent/?limit=30").json()
    assert [order["created_at"] for order in recent] == [iso(m) for m in expected[:30]]
