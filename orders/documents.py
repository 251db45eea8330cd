"""The stored order document, built in one place: the purchase (services.py), the benches and
the tests' fixtures all call `order_document`, so a new order field reaches every one of them."""

from collections.abc import Iterable
from datetime import datetime

from bson import ObjectId

from shopsite.timeutil import day_key, hour_key, minute_key


def order_document(
    *,
    customer: str,
    lines: Iterable[tuple[dict, int]],
    created_at: datetime,
    created_by: str = "",
    order_id: ObjectId | None = None,
) -> dict:
    """lines: (product document, quantity) pairs, in the order's order. The product's price,
    name and category are copied (the order keeps them as they were at the purchase), and what
    the pipelines would otherwise compute (line totals, the UTC day, hour and minute, the
    quantity) is stored: {_id?, customer, created_at, day, hour, minute, items, total_cents,
    quantity, created_by, status: "placed"}."""
    items = [
        {
            "product_id": str(product["_id"]),
            "name": product["name"],
            "category": product["category"],
            "unit_price_cents": product["price_cents"],
            "quantity": quantity,
            "line_total_cents": product["price_cents"] * quantity,
        }
        for product, quantity in lines
    ]
    doc = {} if order_id is None else {"_id": order_id}
    doc.update(
        customer=customer,
        created_at=created_at,
        day=day_key(created_at),
        hour=hour_key(created_at),
        minute=minute_key(created_at),
        items=items,
        total_cents=sum(item["line_total_cents"] for item in items),
        quantity=sum(item["quantity"] for item in items),
        created_by=created_by,
        status="placed",
    )
    return doc
