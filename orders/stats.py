"""Sales statistics from the per-day summaries (orders/summaries.py), never from all the orders.

A window [start, end) is cut into whole UTC days, read from the summaries (by `month` equality,
at most a month's documents per query), and at most two partial edge days, read from `orders`
by `day` equality and filtered to the window in Python: the cost follows the window's days (and
the edge days' orders), not the size of `orders`. Summaries of days with dirty markers are
recomputed first, so every figure is exact. A customer's figures are that customer's summary.
"""

from datetime import UTC, datetime, time, timedelta

from shopsite.timeutil import as_utc, day_key

from . import repository, summaries
from . import summary_repository as store

BREAKDOWNS = ("product", "category", "day")
ONE_DAY = timedelta(days=1)
_TOTALS = {"orders": 1, "quantity": 1, "revenue_cents": 1}


def _midnight_after(moment: datetime) -> datetime:
    return datetime.combine(moment.date(), time(0), tzinfo=UTC) + ONE_DAY


def _split(start: datetime, end: datetime) -> tuple[list[str], list[tuple]]:
    """(whole days, [(day, from, to) partial days]) covering start <= t < end."""
    if start > end:
        raise ValueError("start must not be after end")
    start, end = as_utc(start), as_utc(end)
    whole, partial = [], []
    cursor = start
    if cursor < end and cursor != datetime.combine(cursor.date(), time(0), tzinfo=UTC):
        edge_end = min(_midnight_after(cursor), end)
        partial.append((day_key(cursor), cursor, edge_end))
        cursor = edge_end
    while cursor + ONE_DAY <= end:
        whole.append(day_key(cursor))
        cursor += ONE_DAY
    if cursor < end:
        partial.append((day_key(cursor), cursor, end))
    return whole, partial


def _edge_summaries(partial) -> list[tuple[str, tuple]]:
    """Each partial day summarised from its orders inside the window (day equality)."""
    found = []
    for day, since, until in partial:
        docs = repository.find_day(day, summaries.DAY_FIELDS)
        summary = summaries.summarize_day(d for d in docs if since <= d["created_at"] < until)
        if summary:
            found.append((day, summary))
    return found


def _parts(start: datetime, end: datetime):
    whole, partial = _split(start, end)
    summaries.refresh_days()  # every dirty day first: the stored summaries are then exact
    return whole, _edge_summaries(partial)


def sold_totals(start: datetime, end: datetime) -> dict:
    """Units sold, number of orders and revenue (cents) of orders with start <= created_at < end."""
    return _totals(*_parts(start, end))


def _totals(whole, edges) -> dict:
    rows = [*store.day_docs(store.DAYS, whole, _TOTALS), *(s[0] for _, s in edges)]
    return {
        "total_quantity": sum(row["quantity"] for row in rows),
        "orders": sum(row["orders"] for row in rows),
        "revenue_cents": sum(row["revenue_cents"] for row in rows),
    }


def _merge(rows, key: str, figures: tuple[str, ...]) -> dict[str, dict]:
    merged: dict[str, dict] = {}
    for row in rows:
        into = merged.get(row[key])
        if into is None:
            merged[row[key]] = dict(row)
            continue
        for figure in figures:
            into[figure] += row[figure]
        if "last_at" in row and _latest(row) > _latest(into):
            into.update(name=row["name"], last_at=row["last_at"], last_id=row["last_id"])
    return merged


def _latest(row: dict) -> tuple:
    return row["last_at"], row["last_id"]


def _ranked(merged: dict[str, dict], key: str, limit: int | None) -> list[dict]:
    """By revenue, largest first; ties by key."""
    rows = sorted(merged.values(), key=lambda row: (-row["revenue_cents"], row[key]))
    return rows[:limit] if limit is not None else rows


def sold_breakdown(start: datetime, end: datetime, by: str, limit: int | None = None) -> list[dict]:
    """Rows per product or category (revenue, largest first; ties by key) or per day (oldest first).

    product:  {"product_id", "name", "quantity", "revenue_cents"}
    category: {"category", "quantity", "revenue_cents"}
    day:      {"day", "orders", "quantity", "revenue_cents"}
    """
    if by not in BREAKDOWNS:
        raise ValueError(f"by must be one of {', '.join(BREAKDOWNS)}")
    whole, edges = _parts(start, end)
    if by == "day":
        rows = [
            {"day": doc["_id"], **{name: doc[name] for name in _TOTALS}}
            for doc in store.day_docs(store.DAYS, whole, _TOTALS)
        ]
        rows += [{"day": day, **summary[0]} for day, summary in edges]
        rows.sort(key=lambda row: row["day"])
        return rows[:limit] if limit is not None else rows
    field = "products" if by == "product" else "categories"
    lines = [
        *(row for doc in store.day_docs(store.DAY_LINES, whole, {field: 1}) for row in doc[field]),
        *(row for _, summary in edges for row in summary[1][field]),
    ]
    if by == "category":
        merged = _merge(lines, "category", ("quantity", "revenue_cents"))
        return [
            {"category": row["category"], "quantity": row["quantity"],
             "revenue_cents": row["revenue_cents"]}
            for row in _ranked(merged, "category", limit)
        ]  # fmt: skip
    merged = _merge(lines, "product_id", ("quantity", "revenue_cents"))
    return [
        {"product_id": row["product_id"], "name": row["name"], "quantity": row["quantity"],
         "revenue_cents": row["revenue_cents"]}
        for row in _ranked(merged, "product_id", limit)
    ]  # fmt: skip


def top_customers(start: datetime, end: datetime, limit: int = 10) -> list[dict]:
    """Customers by money spent in the window, largest first (ties by name): {"customer",
    "orders", "revenue_cents"}."""
    whole, edges = _parts(start, end)
    rows = [
        *(
            row
            for doc in store.day_docs(store.DAY_CUSTOMERS, whole, {"customers": 1})
            for row in doc["customers"]
        ),
        *(row for _, summary in edges for row in summary[2]),
    ]
    merged = _merge(rows, "customer", ("orders", "revenue_cents"))
    return _ranked(merged, "customer", limit)


def customer_totals(name: str) -> dict | None:
    """All of one customer's orders: {"customer", "orders", "total_spent_cents",
    "average_order_cents" (rounded half up), "first_order_at", "last_order_at"}; None if none."""
    doc = summaries.fresh_customer(name)
    if doc is None:
        return None
    count, spent = doc["orders"], doc["total_cents"]
    return {
        "customer": name,
        "orders": count,
        "total_spent_cents": spent,
        "average_order_cents": _average_half_up(spent, count),
        "first_order_at": doc["first_order_at"],
        "last_order_at": doc["last_order_at"],
    }


def _average_half_up(total: int, count: int) -> int:
    """total / count rounded half up, in integers (no float rounding)."""
    return (2 * total + count) // (2 * count)


def customer_recent_orders(name: str, limit: int = 10) -> list[dict]:
    """The customer's latest orders, newest first (that customer's orders only)."""
    return repository.newest_first(repository.find_customer(name))[:limit]
