"""Sales statistics: folds of one `sales.window` walk (orders/sales: exact, cancelled orders
left out). A new breakdown is a fold here plus its serializer."""

from datetime import date, datetime, timedelta

from . import repository, sales
from .sales import FIGURES

BREAKDOWNS = ("product", "category", "day", "weekday")
# The rows of sales.Window a breakdown reads (day and weekday read figures only).
PARTS = {"product": ("products",), "category": ("categories",), "customer": ("customers",)}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def sold(
    start: datetime | timedelta, end: datetime | None, by: str | None = None, limit=None
) -> tuple[dict, list[dict] | None, datetime, datetime]:
    """(totals {total_quantity, orders, revenue_cents}, breakdown rows or None, start, end), one
    walk. No end: up to the moment of reading; a timedelta start: that long before the end."""
    if by is not None and by not in BREAKDOWNS:
        raise ValueError(f"by must be one of {', '.join(BREAKDOWNS)}")
    found = sales.window(start, end, lines=PARTS.get(by, ()))
    rows = None if by is None else breakdown(found, by, limit)
    return totals(found), rows, found.start, found.end


def totals(found: sales.Window) -> dict:
    return {
        "total_quantity": found.totals["quantity"],
        "orders": found.totals["orders"],
        "revenue_cents": found.totals["revenue_cents"],
    }


def breakdown(found: sales.Window, by: str, limit: int | None = None) -> list[dict]:
    """Rows per product or category (revenue, largest first; ties by key), per shop day (oldest
    first) or per weekday (Monday first), each only where there were orders.

    product:  {"product_id", "name", "quantity", "revenue_cents"}
    category: {"category", "quantity", "revenue_cents"}
    day:      {"day", "orders", "quantity", "revenue_cents"}
    weekday:  {"weekday" (ISO, Monday = 1), "name", "orders", "quantity", "revenue_cents"}
    """
    if by == "day":
        rows = found.day_rows()
    elif by == "weekday":
        rows = by_weekday(found.day_rows())
    elif by == "category":
        rows = _ranked(found.lines["categories"].values(), "category")
        rows = [{k: row[k] for k in ("category", "quantity", "revenue_cents")} for row in rows]
    elif by == "customer":
        rows = _ranked(found.lines["customers"].values(), "customer")
        rows = [{k: row[k] for k in ("customer", "orders", "revenue_cents")} for row in rows]
    else:
        rows = _ranked(found.lines["products"].values(), "product_id")
        keys = ("product_id", "name", "quantity", "revenue_cents")
        rows = [{k: row[k] for k in keys} for row in rows]
    return rows[:limit] if limit is not None else rows


def by_weekday(day_rows: list[dict]) -> list[dict]:
    """Day rows folded by ISO weekday, Monday first, weekdays with orders only."""
    weekdays: dict[int, dict] = {}
    for row in day_rows:
        number = date.fromisoformat(row["day"]).isoweekday()
        into = weekdays.setdefault(
            number, {"weekday": number, "name": WEEKDAYS[number - 1], **dict.fromkeys(FIGURES, 0)}
        )
        for name in FIGURES:
            into[name] += row[name]
    return [weekdays[number] for number in sorted(weekdays) if weekdays[number]["orders"]]


def _ranked(rows, key: str) -> list[dict]:
    return sorted(rows, key=lambda row: (-row["revenue_cents"], row[key]))


# Kept for the callers that want one part alone.
def sold_totals(start: datetime, end: datetime) -> dict:
    return sold(start, end)[0]


def sold_breakdown(start: datetime, end: datetime, by: str, limit: int | None = None):
    return sold(start, end, by, limit)[1]


def top_customers(start: datetime, end: datetime, limit: int = 10) -> list[dict]:
    return breakdown(sales.window(start, end, lines=PARTS["customer"]), "customer", limit)


def customer_totals(name: str) -> dict | None:
    return sales.customer_totals(name)


def customer_recent_orders(name: str, limit: int = 10) -> list[dict]:
    """The customer's latest orders, newest first (that customer's orders only)."""
    return repository.newest_first(repository.find_customer(name))[:limit]
