"""Sales figures computed from orders, and sums of them (pure: no store, no clock).

A summary is {orders, quantity, revenue_cents, products, categories, customers}; the stored
hour, day and customer summaries (orders/summaries.py) and the stats' edges all take this shape.
An hour's summary also keeps its orders' moments: [microseconds since the epoch, quantity,
revenue_cents] of each order by time, so any part of a clean hour (a window's edge) has its
count and totals without reading its orders.
"""

import heapq
from bisect import bisect_left
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from operator import itemgetter

FIGURES = ("orders", "quantity", "revenue_cents")
# What each part of a summary adds up, keyed by what identifies its rows.
PARTS = {"products": "product_id", "categories": "category", "customers": "customer"}


def summarize(docs: Iterable[dict]) -> dict | None:
    """{orders, quantity, revenue_cents, products, categories, customers} of some orders; None
    if there are none.

    products: {product_id, name, category, quantity, revenue_cents, last_at, last_id}: the name
    recorded by the latest order (created_at, then _id), so windows can pick the latest name.
    customers: {customer, orders, revenue_cents}; categories: {category, quantity, revenue_cents}.
    """
    totals = dict.fromkeys(FIGURES, 0)
    products: dict[str, dict] = {}
    categories: dict[str, dict] = {}
    customers: dict[str, dict] = {}
    for doc in docs:
        totals["orders"] += 1
        totals["quantity"] += doc["quantity"]
        totals["revenue_cents"] += doc["total_cents"]
        buyer = customers.setdefault(
            doc["customer"], {"customer": doc["customer"], "orders": 0, "revenue_cents": 0}
        )
        buyer["orders"] += 1
        buyer["revenue_cents"] += doc["total_cents"]
        stamp = (doc["created_at"], str(doc["_id"]))
        for item in doc["items"]:
            row = products.setdefault(
                item["product_id"],
                {"product_id": item["product_id"], "quantity": 0, "revenue_cents": 0,
                 "last_at": None, "last_id": ""},
            )  # fmt: skip
            row["quantity"] += item["quantity"]
            row["revenue_cents"] += item["line_total_cents"]
            if row["last_at"] is None or stamp > (row["last_at"], row["last_id"]):
                row.update(name=item["name"], category=item["category"])
                row["last_at"], row["last_id"] = stamp
            group = categories.setdefault(
                item["category"], {"category": item["category"], "quantity": 0, "revenue_cents": 0}
            )
            group["quantity"] += item["quantity"]
            group["revenue_cents"] += item["line_total_cents"]
    if not totals["orders"]:
        return None
    return {
        **totals,
        "products": list(products.values()),
        "categories": list(categories.values()),
        "customers": list(customers.values()),
    }


def merge_rows(rows: Iterable[dict], key: str) -> dict[str, dict]:
    """Rows of one part (see PARTS) added up per key; a product keeps its latest name."""
    merged: dict[str, dict] = {}
    for row in rows:
        into = merged.get(row[key])
        if into is None:
            merged[row[key]] = dict(row)
            continue
        for figure in FIGURES:
            if figure in row:
                into[figure] += row[figure]
        if "last_at" in row and (row["last_at"], row["last_id"]) > (
            into["last_at"],
            into["last_id"],
        ):
            into.update(name=row["name"], category=row["category"], last_at=row["last_at"],
                        last_id=row["last_id"])  # fmt: skip
    return merged


def _latest(row: dict) -> tuple:
    return row["last_at"], row["last_id"]


def merge(summaries: Iterable[dict], parts: Iterable[str] = tuple(PARTS)) -> dict | None:
    """The sum of some summaries: their figures and the given parts; None if there are none."""
    summaries = [summary for summary in summaries if summary]
    if not summaries:
        return None
    merged = {figure: sum(summary[figure] for summary in summaries) for figure in FIGURES}
    for part in parts:
        rows = (row for summary in summaries for row in summary[part])
        merged[part] = list(merge_rows(rows, PARTS[part]).values())
    return merged


def hour_summary(docs: list[dict]) -> dict | None:
    """What is stored of an hour: the summary of its orders, their moments, their count per
    minute of the hour (`per_minute`), and whether every one carries its `minute` (orders from
    before it, e.g. restored, are then read by hour)."""
    summary = summarize(docs)
    if summary is None:
        return None
    stamps = moments(docs)
    per_minute = minute_counts({"moments": stamps})
    minutes = all("minute" in doc for doc in docs)
    return {**summary, "moments": stamps, "per_minute": per_minute, "minutes": minutes}


def minute_counts(summary: dict) -> list[int] | None:
    """An hour summary's orders per minute of the hour: stored, or from its moments (summaries
    stored before they kept the counts, markers); None if it has neither."""
    if summary.get("per_minute") is not None:
        return summary["per_minute"]
    if "moments" not in summary:
        return None
    counts = [0] * 60
    for moment in summary["moments"]:
        counts[moment[0] // 60_000_000 % 60] += 1
    return counts


def add_hours(summaries: Iterable[dict | None], parts: Iterable[str]) -> dict | None:
    """The sum of hour summaries of different orders: the figures, the given parts (of PARTS,
    "moments" and "per_minute": None if one of them has no counts) and whether every order
    carries its minute; None if there are none."""
    summaries = [summary for summary in summaries if summary]
    if not summaries:
        return None
    parts = list(parts)
    total = merge(summaries, parts=[part for part in parts if part in PARTS])
    if "moments" in parts:
        total["moments"] = list(heapq.merge(*(summary["moments"] for summary in summaries)))
    if "per_minute" in parts:
        counts = [minute_counts(summary) for summary in summaries]
        summed = None if None in counts else [sum(c) for c in zip(*counts, strict=True)]
        total["per_minute"] = summed
    total["minutes"] = all(summary.get("minutes", False) for summary in summaries)
    return total


def add_customers(summaries: Iterable[dict | None]) -> dict | None:
    """The sum of customer summaries (summarize_customer) of different orders."""
    summaries = [summary for summary in summaries if summary]
    if not summaries:
        return None
    return {
        "orders": sum(summary["orders"] for summary in summaries),
        "total_cents": sum(summary["total_cents"] for summary in summaries),
        "first_order_at": min(summary["first_order_at"] for summary in summaries),
        "last_order_at": max(summary["last_order_at"] for summary in summaries),
    }


def summarize_customer(docs: Iterable[dict]) -> dict | None:
    count, total, first, last = 0, 0, None, None
    for doc in docs:
        count += 1
        total += doc["total_cents"]
        first = doc["created_at"] if first is None else min(first, doc["created_at"])
        last = doc["created_at"] if last is None else max(last, doc["created_at"])
    if not count:
        return None
    return {"orders": count, "total_cents": total, "first_order_at": first, "last_order_at": last}


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TIME = itemgetter(0)


def _micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def moments(docs: Iterable[dict]) -> list[list[int]]:
    """[microseconds since the epoch, quantity, revenue_cents] of each order, by time."""
    return sorted([_micros(doc["created_at"]), doc["quantity"], doc["total_cents"]] for doc in docs)


def _between(stored: list[list[int]], since: datetime | None, until: datetime | None) -> list:
    first = 0 if since is None else bisect_left(stored, _micros(since), key=_TIME)
    after = len(stored) if until is None else bisect_left(stored, _micros(until), key=_TIME)
    return stored[first:after]


def count_between(stored: list[list[int]], since: datetime | None, until: datetime | None) -> int:
    """How many of the moments fall in since <= t < until."""
    return len(_between(stored, since, until))


def totals_between(stored: list[list[int]], since, until) -> dict | None:
    """{orders, quantity, revenue_cents} of the moments in since <= t < until; None if none."""
    rows = _between(stored, since, until)
    if not rows:
        return None
    return {"orders": len(rows), "quantity": sum(row[1] for row in rows),
            "revenue_cents": sum(row[2] for row in rows)}  # fmt: skip
