"""Sales statistics from the hour, day and month summaries (orders/summaries.py), never from all
orders.

A window [start, end) is cut into whole UTC months, read from the month summaries (by `_id`, or
`year` for a whole year), whole UTC days, read from the day summaries (by `month` equality, at
most a month's documents per query), and at most two partial edge days, read hour by hour: the
stored summaries of their whole hours (by `day` equality) and at most two partial edge hours,
whose totals come from their moments and whose other parts (products, categories, customers)
from their orders (by `hour` equality, filtered to the window), unless the window holds every
order of the hour (the current hour of a window ending now): then from its summary. Hours with
dirty markers (and their days and months) are read as they are now (summaries.current_hour: the
stored summary plus the figures written since), so every figure is exact and no read waits for
a recompute. The cost follows the window's months, the days outside whole months (at most two
months' worth) and the edge hours, not the size of `orders`. A customer's figures are that
customer's summary."""

import calendar
from datetime import UTC, datetime, time, timedelta

from shopsite.timeutil import as_utc, day_key

from . import figures, repository, summaries
from . import summary_repository as store

BREAKDOWNS = ("product", "category", "day")
ONE_DAY = timedelta(days=1)
ONE_HOUR = timedelta(hours=1)


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


def _hour_bounds(hour: str) -> tuple[datetime, datetime]:
    start = datetime.strptime(hour, "%Y-%m-%dT%H").replace(tzinfo=UTC)
    return start, start + ONE_HOUR


def _day_from_hours(day, dirty, since, until, part) -> list[dict]:
    """Summaries covering the day's part in [since, until): its hours wholly inside, stored (or,
    if dirty, as they are now: summaries.current_hour), and at most two partial edge hours."""
    projection = _KINDS[part][2]
    if part == "totals":
        projection = {**projection, "moments": 1}
    stored = store.hour_docs(day, projection)
    parts = () if part == "totals" else (part,)
    found = []
    for number in range(24):
        hour = f"{day}T{number:02d}"
        first, after = _hour_bounds(hour)
        if after <= since or first >= until:
            continue
        if since <= first and after <= until:
            found.append(summaries.current_hour(hour, parts) if hour in dirty else stored.get(hour))
            continue
        if hour in dirty:
            summary = summaries.current_hour(hour, ("moments", *parts))
        elif hour in stored and part != "totals":
            summary = store.hour_state(hour, {**projection, "moments": 1})
        else:
            summary = stored.get(hour)
        found.append(_edge_hour(hour, summary, since, until, part))
    return [summary for summary in found if summary]


def _edge_hour(hour, summary, since, until, part) -> dict | None:
    """The part in [since, until) of an hour cut by the window: totals from its moments; its
    other parts are the whole hour's when the window holds all of its orders (the current hour,
    at the end of a window ending now), else from its orders."""
    if summary is None:
        return None
    moments = summary.get("moments")
    if moments is None:  # stored before hours kept them
        return summaries.hour_from_orders(hour, since, until)
    if part == "totals":
        return figures.totals_between(moments, since, until)
    if figures.count_between(moments, since, until) == len(moments):
        return summary
    return summaries.hour_from_orders(hour, since, until)


_KINDS = {  # part: (day kind, month kind, projection)
    "totals": (store.DAYS, store.MONTHS, dict.fromkeys(figures.FIGURES, 1)),
    "products": (store.DAY_LINES, store.MONTH_LINES, {"products": 1}),
    "categories": (store.DAY_LINES, store.MONTH_LINES, {"categories": 1}),
    "customers": (store.DAY_CUSTOMERS, store.MONTH_CUSTOMERS, {"customers": 1}),
}


def _whole_months(days: list[str], dirty_months: set[str]) -> set[str]:
    """The clean months every day of which is among `days`."""
    counts: dict[str, int] = {}
    for day in days:
        counts[day[:7]] = counts.get(day[:7], 0) + 1
    return {
        month for month, count in counts.items()
        if month not in dirty_months and count == _days_in_month(month)
    }  # fmt: skip


def _days_in_month(month: str) -> int:
    return calendar.monthrange(int(month[:4]), int(month[5:7]))[1]


def _pieces(start: datetime, end: datetime, part: str, *, by_day: bool = False):
    """(day or month, summary) pieces covering start <= t < end, carrying `part` (see _KINDS):
    whole clean months from the month summaries (unless by_day), other whole clean days from the
    day summaries, the rest hour by hour (_day_from_hours)."""
    whole, partial = _split(start, end)
    dirty = summaries.dirty_hours()  # first: summaries read after it are at least as new
    dirty_days = {hour[:10] for hour in dirty}
    day_kind, month_kind, projection = _KINDS[part]
    months: set[str] = set()
    if not by_day and summaries.months_ready():
        months = _whole_months(whole, {hour[:7] for hour in dirty})
    pieces = [(doc["_id"], doc) for doc in store.month_docs(month_kind, sorted(months), projection)]
    clean = [day for day in whole if day not in dirty_days and day[:7] not in months]
    pieces += [(doc["_id"], doc) for doc in store.day_docs(day_kind, clean, projection)]
    edges = [(day, *_day_bounds(day)) for day in whole if day in dirty_days] + partial
    for day, since, until in edges:
        pieces += [(day, piece) for piece in _day_from_hours(day, dirty, since, until, part)]
    return pieces


def _day_bounds(day: str) -> tuple[datetime, datetime]:
    start = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC)
    return start, start + ONE_DAY


def sold_totals(start: datetime, end: datetime) -> dict:
    """Units sold, number of orders and revenue (cents) of orders with start <= created_at < end."""
    total = figures.merge((piece for _, piece in _pieces(start, end, "totals")), parts=()) or {}
    return {
        "total_quantity": total.get("quantity", 0),
        "orders": total.get("orders", 0),
        "revenue_cents": total.get("revenue_cents", 0),
    }


def _ranked(merged: dict[str, dict], key: str, limit: int | None) -> list[dict]:
    """By revenue, largest first; ties by key."""
    rows = sorted(merged.values(), key=lambda row: (-row["revenue_cents"], row[key]))
    return rows[:limit] if limit is not None else rows


def _rows(start, end, part: str) -> dict[str, dict]:
    rows = (row for _, piece in _pieces(start, end, part) for row in piece[part])
    return figures.merge_rows(rows, figures.PARTS[part])


def sold_breakdown(start: datetime, end: datetime, by: str, limit: int | None = None) -> list[dict]:
    """Rows per product or category (revenue, largest first; ties by key) or per day (oldest first).

    product:  {"product_id", "name", "quantity", "revenue_cents"}
    category: {"category", "quantity", "revenue_cents"}
    day:      {"day", "orders", "quantity", "revenue_cents"}
    """
    if by not in BREAKDOWNS:
        raise ValueError(f"by must be one of {', '.join(BREAKDOWNS)}")
    if by == "day":
        per_day: dict[str, list] = {}
        for day, piece in _pieces(start, end, "totals", by_day=True):
            per_day.setdefault(day, []).append(piece)
        rows = []
        for day in sorted(per_day):
            total = figures.merge(per_day[day], parts=())
            rows.append({"day": day, **{name: total[name] for name in figures.FIGURES}})
        return rows[:limit] if limit is not None else rows
    if by == "category":
        return [
            {"category": row["category"], "quantity": row["quantity"],
             "revenue_cents": row["revenue_cents"]}
            for row in _ranked(_rows(start, end, "categories"), "category", limit)
        ]  # fmt: skip
    return [
        {"product_id": row["product_id"], "name": row["name"], "quantity": row["quantity"],
         "revenue_cents": row["revenue_cents"]}
        for row in _ranked(_rows(start, end, "products"), "product_id", limit)
    ]  # fmt: skip


def top_customers(start: datetime, end: datetime, limit: int = 10) -> list[dict]:
    """Customers by money spent in the window, largest first (ties by name): {"customer",
    "orders", "revenue_cents"}."""
    rows = [
        {
            "customer": row["customer"],
            "orders": row["orders"],
            "revenue_cents": row["revenue_cents"],
        }
        for row in _rows(start, end, "customers").values()
    ]
    return sorted(rows, key=lambda row: (-row["revenue_cents"], row["customer"]))[:limit]


def customer_totals(name: str) -> dict | None:
    """All of one customer's orders: {"customer", "orders", "total_spent_cents",
    "average_order_cents" (rounded half up), "first_order_at", "last_order_at"}; None if none."""
    doc = summaries.customer_summary(name)
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
