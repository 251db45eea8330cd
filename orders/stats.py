"""Sales statistics, summed by the database with aggregation pipelines over `orders`.

Nothing here pulls orders into Python to add them up: each figure is a `$sum` computed by the
server. The pipelines keep to what both MongoDB 7+ and FerretDB v1.24 run: `$match` (first, on an
indexed field), string `$unwind`, `$group` with `$sum` only, `$sort`, `$limit`. They read values
stored at order time (`total_cents`, `quantity`, `day`, item `line_total_cents` and `category`)
instead of computing them (no arithmetic or date operators there).

FerretDB v1 evaluates only the FIRST accumulator of a `$group` and returns 0 for the others
(FerretDB issue #4616). A one-off probe detects this; on such a server each figure gets its own
single-accumulator pipeline (same `$match`), and the rows are joined by group key. On a server that
evaluates every accumulator (MongoDB), one pipeline computes all figures of a function.
"""

from datetime import datetime

from pymongo import ASCENDING, DESCENDING

from orders.repository import find_page, orders
from shopsite.mongo import get_client

BREAKDOWNS = ("product", "category", "day")
CUSTOMER_INDEX = "customer_created_at"

# Figures summed per group: output name -> the `$sum` operand.
_ORDER_FIGURES = {"orders": 1, "quantity": "$quantity", "revenue": "$total_cents"}
_ITEM_FIGURES = {"quantity": "$items.quantity", "revenue": "$items.line_total_cents"}

_probe_cache: dict[int, bool] = {}


def _sums_every_accumulator() -> bool:
    """Whether the server fills every accumulator of one `$group` (False on FerretDB v1).

    Answered once per client by asking for the same count twice over one order; while the
    collection is empty there is nothing to learn, and the per-figure pipelines are used.
    """
    client = get_client()
    known = _probe_cache.get(id(client))
    if known is not None:
        return known
    # One order picked by _id: both servers answer this without a scan.
    sample = orders().find_one({}, {"_id": 1})
    if sample is None:
        return False
    probe = [
        {"$match": {"_id": sample["_id"]}},
        {"$group": {"_id": None, "a": {"$sum": 1}, "b": {"$sum": 1}}},
    ]
    rows = list(orders().aggregate(probe))
    _probe_cache[id(client)] = answer = bool(rows) and rows[0]["b"] == 1
    return answer


def _grouped(
    *,
    match: dict,
    key,
    figures: dict,
    unwind: str | None = None,
    sort_by: str | None = None,
    descending: bool = True,
    limit: int | None = None,
) -> list[dict]:
    """Rows `{"_id": group key, <figure>: sum, ...}` of the orders that `match` selects.

    Sorted by the figure `sort_by` (ties: group key ascending), or by the group key when `sort_by`
    is None; at most `limit` rows.
    """
    head = [{"$match": match}, *([{"$unwind": unwind}] if unwind else [])]
    if key is None:
        tail = []
    elif sort_by is None:
        tail = [{"$sort": {"_id": DESCENDING if descending else ASCENDING}}]
    else:
        tail = [{"$sort": {sort_by: DESCENDING if descending else ASCENDING, "_id": ASCENDING}}]
    if limit is not None:
        tail.append({"$limit": limit})

    if _sums_every_accumulator():
        group = {"_id": key, **{name: {"$sum": operand} for name, operand in figures.items()}}
        return list(orders().aggregate([*head, {"$group": group}, *tail]))

    # One accumulator per pipeline; the first pipeline (the sort figure) fixes rows and order.
    lead = sort_by if sort_by in figures else next(iter(figures))
    group = {"_id": key, lead: {"$sum": figures[lead]}}
    rows = list(orders().aggregate([*head, {"$group": group}, *tail]))
    if not rows:
        return []
    narrow = []
    if limit is not None and isinstance(key, str):
        # Only the groups that made the cut: the key is a field path such as "$items.category".
        narrow = [{"$match": {key[1:]: {"$in": [row["_id"] for row in rows]}}}]
    for name, operand in figures.items():
        if name == lead:
            continue
        pipeline = [*head, *narrow, {"$group": {"_id": key, name: {"$sum": operand}}}]
        by_key = {row["_id"]: row[name] for row in orders().aggregate(pipeline)}
        for row in rows:
            row[name] = by_key.get(row["_id"], 0)
    return rows


def _window(start: datetime, end: datetime) -> dict:
    if start > end:
        raise ValueError("start must not be after end")
    # Served by the "created_at" index.
    return {"created_at": {"$gte": start, "$lt": end}}


def sold_totals(start: datetime, end: datetime) -> dict:
    """Units sold, number of orders and revenue (cents) of orders with start <= created_at < end."""
    rows = _grouped(match=_window(start, end), key=None, figures=_ORDER_FIGURES)
    row = rows[0] if rows else {}
    return {
        "total_quantity": row.get("quantity", 0),
        "orders": row.get("orders", 0),
        "revenue_cents": row.get("revenue", 0),
    }


def sold_breakdown(start: datetime, end: datetime, by: str, limit: int | None = None) -> list[dict]:
    """Rows per product or category (revenue, largest first; ties by key) or per day (oldest first).

    product:  {"product_id", "name", "quantity", "revenue_cents"}
    category: {"category", "quantity", "revenue_cents"}
    day:      {"day", "orders", "quantity", "revenue_cents"}
    """
    match = _window(start, end)
    if by == "day":
        rows = _grouped(match=match, key="$day", figures=_ORDER_FIGURES, descending=False)
        rows = rows[:limit] if limit is not None else rows
        return [
            {
                "day": row["_id"],
                "orders": row["orders"],
                "quantity": row["quantity"],
                "revenue_cents": row["revenue"],
            }
            for row in rows
        ]
    if by == "category":
        rows = _grouped(
            match=match, key="$items.category", figures=_ITEM_FIGURES, unwind="$items",
            sort_by="revenue", limit=limit,
        )  # fmt: skip
        return [
            {"category": row["_id"], "quantity": row["quantity"], "revenue_cents": row["revenue"]}
            for row in rows
        ]
    if by == "product":
        rows = _grouped(
            match=match, key="$items.product_id", figures=_ITEM_FIGURES, unwind="$items",
            sort_by="revenue", limit=limit,
        )  # fmt: skip
        names = _product_names(match, [row["_id"] for row in rows])
        return [
            {
                "product_id": row["_id"],
                "name": names.get(row["_id"], ""),
                "quantity": row["quantity"],
                "revenue_cents": row["revenue"],
            }
            for row in rows
        ]
    raise ValueError(f"by must be one of {', '.join(BREAKDOWNS)}")


def _product_names(match: dict, product_ids: list[str]) -> dict[str, str]:
    """Each product's name as its orders in the window recorded it (the latest, if it changed)."""
    if not product_ids:
        return {}
    pipeline = [
        {"$match": match},
        {"$unwind": "$items"},
        {"$match": {"items.product_id": {"$in": product_ids}}},
        {"$group": {"_id": {"product_id": "$items.product_id", "name": "$items.name"}}},
    ]
    names: dict[str, str] = {}
    renamed: set[str] = set()
    for row in orders().aggregate(pipeline):
        product_id, name = row["_id"]["product_id"], row["_id"].get("name", "")
        if product_id in names and names[product_id] != name:
            renamed.add(product_id)
        names[product_id] = name
    for product_id in renamed:  # rare: renamed within the window
        latest = orders().find_one(
            {**match, "items.product_id": product_id},
            {"items": 1},
            sort=[("created_at", DESCENDING), ("_id", DESCENDING)],
        )
        names[product_id] = next(
            item["name"] for item in latest["items"] if item["product_id"] == product_id
        )
    return names


def top_customers(start: datetime, end: datetime, limit: int = 10) -> list[dict]:
    """Customers by money spent in the window, largest first (ties by name): {"customer",
    "orders", "revenue_cents"}."""
    rows = _grouped(
        match=_window(start, end), key="$customer",
        figures={"revenue": "$total_cents", "orders": 1}, sort_by="revenue", limit=limit,
    )  # fmt: skip
    return [
        {"customer": row["_id"], "orders": row["orders"], "revenue_cents": row["revenue"]}
        for row in rows
    ]


def customer_totals(name: str) -> dict | None:
    """All of one customer's orders: {"customer", "orders", "total_spent_cents",
    "average_order_cents" (rounded half up), "first_order_at", "last_order_at"}; None if none."""
    # Served by the "customer_created_at" index.
    match = {"customer": name}
    rows = _grouped(match=match, key=None, figures={"spent": "$total_cents", "orders": 1})
    if not rows or not rows[0]["orders"]:
        return None
    count, spent = rows[0]["orders"], rows[0]["spent"]
    return {
        "customer": name,
        "orders": count,
        "total_spent_cents": spent,
        "average_order_cents": _average_half_up(spent, count),
        "first_order_at": _edge_order_time(match, ASCENDING),
        "last_order_at": _edge_order_time(match, DESCENDING),
    }


def _average_half_up(total: int, count: int) -> int:
    """total / count rounded half up, in integers (no float rounding)."""
    return (2 * total + count) // (2 * count)


def _edge_order_time(match: dict, direction: int) -> datetime | None:
    cursor = (
        orders()
        .find(match, {"_id": 0, "created_at": 1})
        .sort("created_at", direction)
        .limit(1)
        .hint(CUSTOMER_INDEX)
    )
    first = next(iter(cursor), None)
    return first["created_at"] if first else None


def customer_recent_orders(name: str, limit: int = 10) -> list[dict]:
    """The customer's latest orders, newest first, as stored (an indexed find with a limit)."""
    return find_page({"customer": name}, skip=0, limit=limit)
