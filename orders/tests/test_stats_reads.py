"""Reads follow the days they cover, not all the orders: proven by watching the wire.

Every command the stats and list reads send is recorded with pymongo's command monitoring on a
client of the same (real) server. Reads only `find` (they never write); `orders` is only read by
equality on `hour`, `minute`, `customer` or `_id` (a window's edge hours, a list's page), never
sorted or scanned; and adding orders on days outside a window changes nothing of what that
window's reads fetch.
"""

from collections import Counter
from datetime import timedelta

import pytest
from pymongo import monitoring

from orders import repository, sales, selectors, services, stats
from orders.tests.conftest import on_the_wire
from orders.tests.test_stats import ANCHOR, WINDOWS, build_shop
from shopsite.timeutil import utcnow

ORDER_FILTER_FIELDS = {("day",), ("hour",), ("minute",), ("customer",), ("_id",)}
SALES_FILTER_FIELDS = {
    ("_id",),
    ("day",),
    ("month",),
    ("year",),
    ("group",),
    ("pass",),
}


class Listener(monitoring.CommandListener):
    def __init__(self):
        self.commands: list[tuple[str, dict]] = []
        self.returned: Counter = Counter()

    def started(self, event):
        self.commands.append((event.command_name, event.command))
        self._collection = event.command.get(event.command_name)

    def succeeded(self, event):
        cursor = event.reply.get("cursor", {})
        docs = cursor.get("firstBatch", []) + cursor.get("nextBatch", [])
        namespace = cursor.get("ns", "").split(".", 1)[-1]
        self.returned[namespace] += len(docs)

    def failed(self, event):
        pass

    def clear(self):
        self.commands.clear()
        self.returned.clear()


@pytest.fixture
def shop(mongo, staff_client):
    return build_shop(staff_client)


@pytest.fixture
def watched(shop, monkeypatch):
    listener = Listener()
    with on_the_wire(listener, monkeypatch):
        sales.fold()
        listener.clear()
        yield listener


def _calls():
    start, end = WINDOWS["middle"]
    yield "sold_totals", lambda: stats.sold_totals(start, end)
    for by in stats.BREAKDOWNS:
        yield f"sold_breakdown {by}", lambda by=by: stats.sold_breakdown(start, end, by)
    yield "top_customers", lambda: stats.top_customers(start, end, limit=3)
    yield "customer_totals", lambda: stats.customer_totals("Bob")
    yield "orders list", lambda: selectors.orders_page_since(days=365, skip=60, limit=20)
    yield "orders of a customer", lambda: selectors.orders_page_since(days=365, customer="Bob")


def _check_commands(listener):
    for command, body in listener.commands:
        collection = body.get(command)
        assert command in {"find", "getMore"}, (command, body)  # a read never writes
        if command != "find":
            continue
        assert "sort" not in body, body
        fields = tuple(body.get("filter", {}))
        if collection == repository.COLLECTION:
            assert fields in ORDER_FILTER_FIELDS, body["filter"]
            assert not isinstance(next(iter(body["filter"].values())), dict), body["filter"]
        else:
            assert collection.startswith("sales_"), collection
            # Every month of the store at once: a window of more than a few whole years.
            every_month = collection == "sales_months" and not fields
            assert fields in SALES_FILTER_FIELDS or every_month, (collection, body["filter"])


@pytest.mark.parametrize("name", [name for name, _ in _calls()])
def test_reads_are_equalities_and_do_not_grow_with_orders_elsewhere(watched, name, staff_client):
    call = dict(_calls())[name]
    first = call()
    assert first
    _check_commands(watched)
    fetched = dict(watched.returned)

    # More orders, on days no window above touches (before the shop's first order).
    product = repository.orders().find_one()["items"][0]["product_id"]
    far = ANCHOR - timedelta(days=300)
    services.orders_place_bulk(
        orders=[
            {
                "customer": f"other {n}",
                "created_at": far + timedelta(hours=n),
                "items": [{"product_id": product, "quantity": 1}],
            }
            for n in range(40)
        ],  # fmt: skip
        user_id=None,
    )
    sales.fold()
    watched.clear()
    assert call() == first
    _check_commands(watched)
    assert dict(watched.returned) == fetched


def test_recent_reads_only_the_newest_days(watched):
    """The newest orders come from the newest days' orders, not from all of them."""
    now = utcnow()
    product = repository.orders().find_one()["items"][0]["product_id"]
    services.orders_place_bulk(
        orders=[{"customer": "today", "created_at": now - timedelta(seconds=n),
                 "items": [{"product_id": product, "quantity": 1}]} for n in range(12)],
        user_id=None,
    )  # fmt: skip
    sales.fold()
    watched.clear()
    recent = selectors.orders_recent(limit=10)
    assert [doc["customer"] for doc in recent] == ["today"] * 10
    assert watched.returned[repository.COLLECTION] <= 12  # today's orders only


def test_a_busy_day_is_read_hour_by_hour(watched):
    """A busy day: a page, a deep page and a window edge inside that day read one hour's
    orders, not the day's."""
    product = repository.orders().find_one()["items"][0]["product_id"]
    midnight = utcnow().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=3)
    placed = [midnight + timedelta(hours=hour, minutes=5 * n) for hour in range(24)
              for n in range(10)]  # fmt: skip
    services.orders_place_bulk(
        orders=[{"customer": "busy", "created_at": moment,
                 "items": [{"product_id": product, "quantity": 1}]} for moment in placed],
        user_id=None,
    )  # fmt: skip
    sales.fold()

    watched.clear()
    count, page = selectors.orders_page_since(days=5, limit=5)
    assert count == 240
    assert [doc["created_at"] for doc in page] == sorted(placed, reverse=True)[:5]
    assert watched.returned[repository.COLLECTION] == 10  # the newest hour's orders only

    watched.clear()
    _, page = selectors.orders_page_since(days=5, skip=235, limit=5)
    assert [doc["created_at"] for doc in page] == sorted(placed, reverse=True)[235:]
    assert watched.returned[repository.COLLECTION] == 10

    watched.clear()
    start = midnight + timedelta(hours=5, minutes=30)
    totals = stats.sold_totals(start, midnight + timedelta(days=1))
    assert totals["orders"] == len([moment for moment in placed if moment >= start])
    assert watched.returned[repository.COLLECTION] == 0  # the edge hour's stored quarters
    rows = stats.sold_breakdown(start, midnight + timedelta(days=1), "product")
    assert rows[0]["quantity"] == totals["total_quantity"]
    assert watched.returned[repository.COLLECTION] == 10  # the edge hour's orders, for products
    _check_commands(watched)

    # A window starting inside the busy day: counted from the first hour's stored minutes (the
    # minute `since` falls in from its orders: one at most here), and its last page reads that
    # hour only.
    since = utcnow() - timedelta(days=3)
    inside = sorted((moment for moment in placed if moment >= since), reverse=True)
    watched.clear()
    assert selectors.orders_count_since(days=3) == len(inside)
    assert watched.returned[repository.COLLECTION] <= 1
    _, page = selectors.orders_page_since(days=3, skip=max(len(inside) - 2, 0), limit=5)
    assert [doc["created_at"] for doc in page] == inside[-2:]
    assert watched.returned[repository.COLLECTION] <= 20  # at most the two oldest hours


def test_a_window_of_centuries_reads_the_months_with_sales(watched):
    """A window from the year 116: every month of the store in one query, then the days of the
    months with sales, not one query per month or year of the window."""
    start, end = WINDOWS["since the year 116"]
    totals = stats.sold_totals(start, end)
    assert totals["orders"] == 302
    finds = [body for command, body in watched.commands if command == "find"]
    assert len(finds) < 40, len(finds)
    _check_commands(watched)


def _rows_read(watched) -> list[str]:
    """The filters of the reads of row documents (sales_lines)."""
    commands = watched.commands
    return [str(body["filter"]) for _, body in commands if body.get("find") == "sales_lines"]


@pytest.mark.parametrize("by", ["product", "category"])
def test_a_breakdown_reads_only_the_rows_it_shows(watched, by):
    """Customers' rows live apart from products' and categories' (a month holds thousands):
    a product or category breakdown never reads them, the top customers read only them."""
    start, end = WINDOWS["everything"]
    assert stats.sold_breakdown(start, end, by)
    lines = _rows_read(watched)
    assert any("_lines" in f for f in lines) and not any("buyers" in f for f in lines), lines
    watched.clear()
    assert stats.top_customers(start, end, limit=3)
    lines = _rows_read(watched)
    assert any("buyers" in f for f in lines) and not any("_lines" in f for f in lines), lines


def test_a_window_up_to_now_counts_the_current_hour_whole(watched, staff_client):
    """No end (the API's default, the home page's today): the current hour comes from its
    summary and the ledger, however busy, never order by order (an end taken before the read
    would cut the hour and cost every order in it)."""
    product = repository.orders().find_one()["items"][0]["product_id"]
    start = utcnow() - timedelta(days=30)
    before = stats.sold(start, None)[0]
    placed = [{"customer": "Now", "items": [{"product_id": product, "quantity": 2}]}] * 3
    services.orders_place_bulk(orders=placed, user_id=None)
    watched.clear()

    totals, _, _, end = stats.sold(start, None)
    body = staff_client.get("/stats/sold/").json()

    assert totals["orders"] == before["orders"] + 3
    assert totals["total_quantity"] == before["total_quantity"] + 6
    assert body["orders"] == totals["orders"]
    assert abs(end - utcnow()) < timedelta(seconds=30)
    _check_commands(watched)
    hour = utcnow().strftime("%Y-%m-%dT%H")
    read_orders = [
        body["filter"] for command, body in watched.commands
        if command == "find" and body["find"] == repository.COLLECTION
    ]  # fmt: skip
    assert all(flt.get("hour") != hour for flt in read_orders), read_orders
