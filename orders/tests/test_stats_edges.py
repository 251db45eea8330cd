"""Stats API edges: rounding, missing customers, the default window, accepted and refused query
parameters, access, and the empty store (the figures themselves: test_stats.py)."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest

from orders import stats
from orders.tests.test_stats import (
    ANCHOR,
    WINDOWS,
    Order,
    expected_sold,
    import_orders,
    import_products,
    rename_product,
)
from shopsite.timeutil import iso, utcnow


def test_customer_average_rounds_half_up(mongo, staff_client):
    """1.00 + 1.01 + 1.01 = 3.02 over 3 orders = 1.00666 → 1.01; 0.01 + 0.02 = 0.03 / 2 → 0.02."""
    products = import_products(
        staff_client,
        [
            {"name": "Cheap", "category": "c", "price": "0.01", "stock": 100},
            {"name": "Two", "category": "c", "price": "0.02", "stock": 100},
            {"name": "One", "category": "c", "price": "1.00", "stock": 100},
            {"name": "OneOne", "category": "c", "price": "1.01", "stock": 100},
        ],
    )
    cheap, two, one, oneone = list(products)
    when = ANCHOR - timedelta(days=3)
    import_orders(
        staff_client,
        [
            Order("half", when, [(cheap, 1)]),
            Order("half", when + timedelta(seconds=1), [(two, 1)]),
            Order("thirds", when, [(one, 1)]),
            Order("thirds", when + timedelta(seconds=1), [(oneone, 1)]),
            Order("thirds", when + timedelta(seconds=2), [(oneone, 1)]),
        ],
    )
    half = staff_client.get("/stats/customer/half").json()
    assert (half["total_spent"], half["average_order"]) == ("0.03", "0.02")
    thirds = staff_client.get("/stats/customer/thirds").json()
    assert (thirds["total_spent"], thirds["average_order"]) == ("3.02", "1.01")
    assert thirds["first_order_at"] == iso(when)
    assert thirds["last_order_at"] == iso(when + timedelta(seconds=2))


def test_customer_without_orders_is_404(shop, staff_client):
    for path in ("/stats/customer/Nobody", "/stats/customer/Nobody/", "/stats/customer/bob"):
        response = staff_client.get(path)
        assert response.status_code == 404
        assert "detail" in response.json()


def test_default_window_is_last_30_days(mongo, staff_client):
    products = import_products(
        staff_client, [{"name": "P", "category": "c", "price": "2.50", "stock": 100}]
    )
    (pid,) = products
    now = utcnow()
    import_orders(
        staff_client,
        [
            Order("x", now - timedelta(days=1), [(pid, 1)]),
            Order("x", now - timedelta(days=29, hours=23), [(pid, 2)]),
            Order("x", now - timedelta(days=30, minutes=5), [(pid, 4)]),
        ],
    )
    body = staff_client.get("/stats/sold/").json()
    start, end = datetime.fromisoformat(body["start"]), datetime.fromisoformat(body["end"])
    assert end - start == timedelta(days=30)
    assert abs(end - utcnow()) < timedelta(seconds=30)
    assert (body["orders"], body["total_quantity"], body["revenue"]) == (2, 3, "7.50")
    # Only end given: the 30 days before it.
    only_end = staff_client.get("/stats/sold?" + urlencode({"end": iso(now - timedelta(days=2))}))
    assert only_end.json()["total_quantity"] == 6
    # Only start given: up to now.
    only_start = staff_client.get(
        "/stats/sold?" + urlencode({"start": iso(now - timedelta(days=60))})
    ).json()
    assert only_start["total_quantity"] == 7
    assert "breakdown" not in only_start


def test_date_formats_accepted(shop, staff_client):
    products, orders = shop
    start, end = datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC)
    expected = expected_sold(products, orders, start, end)
    for query in (
        "start=2026-04-01&end=2026-05-01",
        "start=2026-04-01T00:00:00Z&end=2026-05-01T00:00:00Z",
        "start=2026-04-01T02:00:00%2B02:00&end=2026-05-01T00:00:00",
        "start=2026-04-01T02:00:00+02:00&end=2026-04-30T22:00:00-02:00",
    ):
        body = staff_client.get("/stats/sold?" + query).json()
        assert body == expected, query


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("start=yesterday", "start"),
        ("start=2026-13-01", "start"),
        ("end=2026-02-30T00:00:00Z", "end"),
        ("start=2026-05-02&end=2026-05-01", "start"),
        ("start=2026-05-01T00:00:00.001Z&end=2026-05-01T00:00:00Z", "start"),
        ("end=0001-01-02", "end"),
        ("start=2026-05-01T00:00:00+25:00", "start"),
        ("by=week", "by"),
        ("start=2026-05-01&by=Product", "by"),
    ],
)
def test_bad_query_is_400_naming_the_field(mongo, staff_client, query, field):
    response = staff_client.get("/stats/sold/?" + query)
    assert response.status_code == 400
    body = response.json()
    assert field in body["errors"], body
    assert field in body["detail"]


def test_empty_parameters_are_400_and_absent_ones_the_defaults(mongo, staff_client):
    """Issue 13: an empty start/end/by is a 400 naming each (not the default); left out, the
    defaults apply."""
    response = staff_client.get("/stats/sold/?start=&end=&by=")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"start", "end", "by"}
    body = staff_client.get("/stats/sold/").json()
    assert datetime.fromisoformat(body["end"]) - datetime.fromisoformat(body["start"]) == timedelta(
        days=30
    )
    assert "breakdown" not in body


def test_stats_need_staff(mongo, anon_client, plain_user, redis_client):
    for path in ("/stats/sold/", "/stats/customer/Bob"):
        assert anon_client.get(path).status_code == 401
    anon_client.force_authenticate(plain_user)
    for path in ("/stats/sold/", "/stats/customer/Bob"):
        assert anon_client.get(path).status_code == 403


def test_without_trailing_slash_no_redirect(shop, staff_client):
    start, end = WINDOWS["middle"]
    query = urlencode({"start": iso(start), "end": iso(end), "by": "category"})
    with_slash = staff_client.get("/stats/sold/?" + query)
    without = staff_client.get("/stats/sold?" + query)
    assert with_slash.status_code == without.status_code == 200
    assert with_slash.json() == without.json()


def test_product_name_is_the_latest_in_the_window(mongo, staff_client):
    """A product renamed between orders appears once, under the name of its latest order."""
    products = import_products(
        staff_client, [{"name": "Old name", "category": "c", "price": "3.00", "stock": 100}]
    )
    (pid,) = products
    day = ANCHOR - timedelta(days=5)
    import_orders(staff_client, [Order("r", day, [(pid, 1)])])
    rename_product(staff_client, pid, "New name")
    import_orders(staff_client, [Order("r", day + timedelta(hours=1), [(pid, 2)])])
    rows = stats.sold_breakdown(day, day + timedelta(days=1), "product")
    assert rows == [{"product_id": pid, "name": "New name", "quantity": 3, "revenue_cents": 900}]
    older = stats.sold_breakdown(day, day + timedelta(minutes=1), "product")
    assert older[0]["name"] == "Old name"


def test_stats_reject_start_after_end_in_functions(mongo):
    with pytest.raises(ValueError):
        stats.sold_totals(ANCHOR, ANCHOR - timedelta(seconds=1))
    with pytest.raises(ValueError):
        stats.sold_breakdown(ANCHOR, ANCHOR, "week")


def test_empty_collection(mongo):
    assert stats.sold_totals(ANCHOR - timedelta(days=1), ANCHOR) == {
        "total_quantity": 0, "orders": 0, "revenue_cents": 0,
    }  # fmt: skip
    for by in stats.BREAKDOWNS:
        assert stats.sold_breakdown(ANCHOR - timedelta(days=1), ANCHOR, by) == []
    assert stats.top_customers(ANCHOR - timedelta(days=1), ANCHOR) == []
    assert stats.customer_totals("anyone") is None
