"""Stats pipelines and API against figures computed independently with plain Python and Decimal.

A few hundred orders with random items, quantities and past dates (fixed seed) are imported, then
every figure of every endpoint and breakdown is compared for several windows, including empty ones
and the window edges (an order exactly at `end` is excluded, one exactly at `start` included).
"""

import calendar
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from orders import stats
from shopsite.timeutil import iso

SEED = 20261127
ANCHOR = datetime(2026, 6, 1, tzinfo=UTC)
EDGE_START = ANCHOR - timedelta(days=20, hours=5)
EDGE_END = ANCHOR - timedelta(days=10, hours=7, minutes=3)
CUSTOMERS = ["Ada Lovelace", "Bob", "Zoë Ærø", "A/B Trading", "50% off & co", "carol", "Dave+Sons"]
CATEGORIES = ["books", "games", "garden", "kitchen"]


@dataclass
class Order:
    customer: str
    created_at: datetime
    items: list[tuple[str, int]]  # (product_id, quantity)


def build_shop(staff_client):
    rng = random.Random(SEED)
    specs = [
        {
            "name": f"Product {index:02d}",
            "category": CATEGORIES[index % len(CATEGORIES)],
            # Some equal prices so that revenue ties occur and the tie-breaker matters.
            "price": f"{rng.choice([1, 5, 9, 12, 50])}.{rng.choice(['00', '99', '49', '05'])}",
            "stock": 1_000_000,
        }
        for index in range(14)
    ]
    products = import_products(staff_client, specs)
    ids = list(products)
    orders = []
    for _ in range(300):
        created = ANCHOR - timedelta(days=rng.randint(1, 90), seconds=rng.randint(0, 86399))
        created = created.replace(microsecond=rng.randint(0, 999) * 1000)
        chosen = rng.sample(ids, rng.randint(1, 4))
        items = [(product_id, rng.randint(1, 7)) for product_id in chosen]
        orders.append(Order(rng.choice(CUSTOMERS), created, items))
    # Exactly at the edges of the edge window.
    orders.append(Order("Bob", EDGE_START, [(ids[0], 2)]))
    orders.append(Order("carol", EDGE_END, [(ids[1], 3)]))
    import_orders(staff_client, orders)
    return products, orders


# --- importing through the API: products with stock, then bulk past orders --------------------


def import_products(client, specs) -> dict[str, dict]:
    """POST /products/ (bulk); {product_id: {"name", "category", "price": Decimal}} in order."""
    response = client.post("/products/", specs, format="json")
    assert response.status_code == 201, response.content
    return {
        created["id"]: {
            "name": spec["name"],
            "category": spec["category"],
            "price": Decimal(spec["price"]),
        }
        for spec, created in zip(specs, response.json(), strict=True)
    }


def import_orders(client, orders) -> None:
    """POST /orders/ (bulk, with past created_at): each a purchase that takes stock."""
    body = [
        {
            "customer": order.customer,
            "created_at": iso(order.created_at),
            "items": [{"product_id": pid, "quantity": qty} for pid, qty in order.items],
        }
        for order in orders
    ]
    for chunk in range(0, len(body), 500):
        response = client.post("/orders/", body[chunk : chunk + 500], format="json")
        assert response.status_code == 201, response.content
        assert [o["created_at"] for o in response.json()] == [
            o["created_at"] for o in body[chunk : chunk + 500]
        ]


def rename_product(client, product_id, name) -> None:
    response = client.patch(f"/products/{product_id}/", {"name": name}, format="json")
    assert response.status_code == 200, response.content


# --- the expected figures, computed independently ---------------------------------------------


def _money(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01")))


def _in(orders, start, end):
    return [order for order in orders if start <= order.created_at < end]


def expected_sold(products, orders, start, end, by=None) -> dict:
    chosen = _in(orders, start, end)
    lines = [
        (order, product_id, quantity, products[product_id]["price"] * quantity)
        for order in chosen
        for product_id, quantity in order.items
    ]
    body = {
        "start": iso(start),
        "end": iso(end),
        "total_quantity": sum(line[2] for line in lines),
        "orders": len(chosen),
        "revenue": _money(sum((line[3] for line in lines), Decimal(0))),
        "time_zone": settings.SHOP_TIME_ZONE,
    }
    if by in ("day", "weekday"):
        # The shop's days, their boundaries straight from zoneinfo.
        zone = ZoneInfo(settings.SHOP_TIME_ZONE)
        days = defaultdict(lambda: {"orders": set(), "quantity": 0, "revenue": Decimal(0)})
        for order, _, quantity, amount in lines:
            local = order.created_at.astimezone(zone).date()
            row = days[local.isoformat() if by == "day" else local.isoweekday()]
            row["orders"].add(id(order))
            row["quantity"] += quantity
            row["revenue"] += amount
        body["breakdown"] = [
            {**({"day": key} if by == "day" else
                {"weekday": key, "name": calendar.day_name[key - 1]}),
             "orders": len(row["orders"]), "quantity": row["quantity"],
             "revenue": _money(row["revenue"])}
            for key, row in sorted(days.items())
        ]  # fmt: skip
    elif by in ("product", "category"):
        groups = defaultdict(lambda: [0, Decimal(0)])
        for _, product_id, quantity, amount in lines:
            key = product_id if by == "product" else products[product_id]["category"]
            groups[key][0] += quantity
            groups[key][1] += amount
        ordered = sorted(groups.items(), key=lambda kv: (-kv[1][1], kv[0]))
        if by == "product":
            body["breakdown"] = [
                {"product_id": key, "name": products[key]["name"], "quantity": quantity,
                 "revenue": _money(revenue)}
                for key, (quantity, revenue) in ordered
            ]  # fmt: skip
        else:
            body["breakdown"] = [
                {"category": key, "quantity": quantity, "revenue": _money(revenue)}
                for key, (quantity, revenue) in ordered
            ]
    return body


def expected_customer(products, orders, name) -> dict | None:
    mine = [order for order in orders if order.customer == name]
    if not mine:
        return None
    totals = [
        sum((products[pid]["price"] * qty for pid, qty in order.items), Decimal(0))
        for order in mine
    ]
    spent = sum(totals, Decimal(0))
    return {
        "customer": name,
        "orders": len(mine),
        "total_spent": _money(spent),
        "average_order": str((spent / len(mine)).quantize(Decimal("0.01"), ROUND_HALF_UP)),
        "first_order_at": iso(min(order.created_at for order in mine)),
        "last_order_at": iso(max(order.created_at for order in mine)),
    }


WINDOWS = {
    "everything": (ANCHOR - timedelta(days=400), ANCHOR + timedelta(days=1)),
    "middle": (ANCHOR - timedelta(days=40, hours=3), ANCHOR - timedelta(days=12, minutes=7)),
    "one day": (ANCHOR - timedelta(days=33), ANCHOR - timedelta(days=32)),
    "edges": (EDGE_START, EDGE_END),
    "empty, before all orders": (ANCHOR - timedelta(days=900), ANCHOR - timedelta(days=800)),
    "empty, start equals end": (EDGE_START, EDGE_START),
    # Whole years: three read a year at a time, ten every month of the store at once.
    "three whole years": (datetime(2025, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC)),
    "ten whole years": (datetime(2020, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)),
    "since the year 116": (datetime(116, 4, 25, 13, 20, tzinfo=UTC), ANCHOR + timedelta(days=1)),
}


def _sold(client, start, end, by=None):
    query = {"start": iso(start), "end": iso(end)}
    if by:
        query["by"] = by
    return client.get("/stats/sold/?" + urlencode(query))


@pytest.mark.parametrize("window", list(WINDOWS))
def test_sold_every_figure_and_breakdown_matches_independent_computation(
    shop, staff_client, window
):
    products, orders = shop
    start, end = WINDOWS[window]
    for by in (None, "product", "category", "day", "weekday"):
        response = _sold(staff_client, start, end, by)
        assert response.status_code == 200, response.content
        assert response.json() == expected_sold(products, orders, start, end, by), (window, by)


def test_windows_are_not_trivial(shop):
    """The windows above exercise what they claim: data, emptiness and both edges."""
    products, orders = shop
    assert len(_in(orders, *WINDOWS["everything"])) == len(orders) == 302
    for name in ("three whole years", "ten whole years", "since the year 116"):
        assert len(_in(orders, *WINDOWS[name])) == 302
    assert 50 < len(_in(orders, *WINDOWS["middle"])) < 250
    assert not _in(orders, *WINDOWS["empty, before all orders"])
    edge = _in(orders, EDGE_START, EDGE_END)
    assert any(order.created_at == EDGE_START for order in edge)
    assert not any(order.created_at == EDGE_END for order in edge)
    assert any(order.created_at == EDGE_END for order in orders)
    # Ties in revenue exist among products, so the tie-breaker order is checked.
    rows = expected_sold(products, orders, *WINDOWS["everything"], by="product")["breakdown"]
    revenues = [row["revenue"] for row in rows]
    assert len(set(revenues)) < len(revenues) or len(rows) == len(products)


def test_edge_orders_start_included_end_excluded(shop, staff_client):
    products, orders = shop

    def window(start, end):
        query = urlencode({"start": iso(start), "end": iso(end)})
        return staff_client.get("/stats/sold/?" + query).json()

    ms = timedelta(milliseconds=1)
    just_start = window(EDGE_START, EDGE_START + ms)
    assert just_start["orders"] == 1 and just_start["total_quantity"] == 2
    just_end = window(EDGE_END - ms, EDGE_END)
    assert just_end["orders"] == 0 and just_end["revenue"] == "0.00"
    at_end = window(EDGE_END, EDGE_END + ms)
    assert at_end["orders"] == 1 and at_end["total_quantity"] == 3


def test_stats_functions_match_and_top_customers(shop):
    products, orders = shop
    start, end = WINDOWS["middle"]
    expected = expected_sold(products, orders, start, end)
    totals = stats.sold_totals(start, end)
    assert totals["total_quantity"] == expected["total_quantity"]
    assert totals["orders"] == expected["orders"]
    assert Decimal(totals["revenue_cents"]) / 100 == Decimal(expected["revenue"])

    spent = defaultdict(lambda: [0, Decimal(0)])
    for order in _in(orders, start, end):
        spent[order.customer][0] += 1
        spent[order.customer][1] += sum(
            (products[pid]["price"] * qty for pid, qty in order.items), Decimal(0)
        )
    ranked = sorted(spent.items(), key=lambda kv: (-kv[1][1], kv[0]))
    for limit in (1, 3, 100):
        rows = stats.top_customers(start, end, limit=limit)
        assert [
            (row["customer"], row["orders"], Decimal(row["revenue_cents"]) / 100) for row in rows
        ] == [(name, count, amount) for name, (count, amount) in ranked[:limit]]

    top = stats.sold_breakdown(start, end, "product", limit=3)
    full = expected_sold(products, orders, start, end, "product")["breakdown"]
    assert [row["product_id"] for row in top] == [row["product_id"] for row in full[:3]]
    assert [row["quantity"] for row in top] == [row["quantity"] for row in full[:3]]


@pytest.mark.parametrize("name", CUSTOMERS)
def test_customer_every_figure(shop, staff_client, name):
    products, orders = shop
    expected = expected_customer(products, orders, name)
    assert expected is not None
    for path in (
        f"/stats/customer/{quote(name, safe='')}",
        f"/stats/customer/{quote(name, safe='')}/",
    ):
        response = staff_client.get(path)
        assert response.status_code == 200, (path, response.content)
        assert response.json() == expected
