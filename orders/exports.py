"""Rows of the orders and sales CSV downloads (API and dashboard): one place for the columns."""

from collections.abc import Iterable, Iterator

from shopsite.money import cents_to_str
from shopsite.timeutil import iso

ORDER_ITEM_HEADER = [
    "order_id",
    "created_at",
    "customer",
    "order_total",
    "status",
    "item",
    "product_id",
    "name",
    "category",
    "unit_price",
    "quantity",
    "line_total",
]


def order_item_rows(orders: Iterable[dict]) -> Iterator[dict]:
    """One row per order item; `item` is its position in the order (1, 2, ...)."""
    for order in orders:
        common = {
            "order_id": str(order["_id"]),
            "created_at": iso(order["created_at"]),
            "customer": order["customer"],
            "order_total": cents_to_str(order["total_cents"]),
            # Orders stored before they had a status are placed.
            "status": order.get("status", "placed"),
        }
        for position, item in enumerate(order.get("items", []), start=1):
            yield {
                **common,
                "item": position,
                "product_id": item["product_id"],
                "name": item.get("name", ""),
                "category": item.get("category", ""),
                "unit_price": cents_to_str(item["unit_price_cents"]),
                "quantity": item["quantity"],
                "line_total": cents_to_str(item["line_total_cents"]),
            }


# Sales figures: the stats rows with money as decimal strings, by table.
SALES_HEADERS = {
    "day": ["day", "orders", "quantity", "revenue"],
    "weekday": ["weekday", "name", "orders", "quantity", "revenue"],
    "product": ["product_id", "name", "quantity", "revenue"],
    "category": ["category", "quantity", "revenue"],
    "customer": ["customer", "orders", "revenue"],
    "totals": ["start", "end", "orders", "total_quantity", "revenue"],
}


def sales_rows(rows: Iterable[dict]) -> Iterator[dict]:
    for row in rows:
        out = {key: value for key, value in row.items() if key != "revenue_cents"}
        out["revenue"] = cents_to_str(row["revenue_cents"])
        for key in ("start", "end"):
            if key in out:
                out[key] = iso(out[key])
        yield out
