"""What an order adds to the sales figures, and sums of figures (pure: no store, no clock).

A figure record is {orders, quantity, revenue_cents}; an hour's also counts its orders per
minute and quarter and by status (the order lists use those). Lines are rows keyed by product,
category and customer. A change (a ledger entry: docs/sales-summaries.md) is a list of
`Effect`s, one per summary key it touches; folding and reading both add them the same way.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from shopsite.timeutil import as_utc, hour_key

FIGURES = ("orders", "quantity", "revenue_cents")
COUNTS = ("listed", "fulfilled", "cancelled")
# Lines: rows keyed by this field, summing these numbers.
LINES = {
    "products": ("product_id", ("quantity", "revenue_cents")),
    "categories": ("category", ("quantity", "revenue_cents")),
    "customers": ("customer", ("orders", "revenue_cents")),
}
# Kinds of summary: the UTC hour, the shop's day and month (figures, and lines apart), and the
# customer.
HOUR, DAY, MONTH, CUSTOMER = "hour", "day", "month", "customer"
HOUR_LINES, DAY_LINES, MONTH_LINES = "hour_lines", "day_lines", "month_lines"
# Customers' rows apart from the products' and categories': a month has thousands of customers
# and FerretDB decodes whole documents, so the product and category reads would pay for them.
HOUR_BUYERS, DAY_BUYERS, MONTH_BUYERS = "hour_buyers", "day_buyers", "month_buyers"
GOODS = ("products", "categories")
LINE_PARTS = {
    **dict.fromkeys((HOUR_LINES, DAY_LINES, MONTH_LINES), GOODS),
    **dict.fromkeys((HOUR_BUYERS, DAY_BUYERS, MONTH_BUYERS), ("customers",)),
}


@dataclass(frozen=True)
class Effect:
    kind: str
    key: str
    delta: dict


def local_day(moment: datetime, zone: ZoneInfo) -> str:
    """The shop's calendar day of a moment, "YYYY-MM-DD"."""
    return as_utc(moment).astimezone(zone).date().isoformat()


def order_lines(order: dict, sign: int = 1) -> dict:
    """{products, categories, customers}: {key: row} of one order, numbers times `sign`."""
    total, stamp = sign * order["total_cents"], (order["created_at"], str(order["_id"]))
    customer = order["customer"]
    lines = {
        "products": {},
        "categories": {},
        "customers": {customer: {"customer": customer, "orders": sign, "revenue_cents": total}},
    }
    for item in order["items"]:
        quantity, revenue = sign * item["quantity"], sign * item["line_total_cents"]
        product = lines["products"].setdefault(
            item["product_id"],
            {"product_id": item["product_id"], "name": item["name"], "quantity": 0,
             "revenue_cents": 0, "last_at": stamp[0], "last_id": stamp[1]},
        )  # fmt: skip
        product["quantity"] += quantity
        product["revenue_cents"] += revenue
        category = lines["categories"].setdefault(
            item["category"], {"category": item["category"], "quantity": 0, "revenue_cents": 0}
        )
        category["quantity"] += quantity
        category["revenue_cents"] += revenue
    return lines


def order_figures(order: dict, sign: int = 1) -> dict:
    return {
        "orders": sign,
        "quantity": sign * order["quantity"],
        "revenue_cents": sign * order["total_cents"],
    }


def order_effects(order: dict, change: str, zone: ZoneInfo) -> Iterator[Effect]:
    """What one order adds when it is placed, cancelled or fulfilled (`change`)."""
    created = as_utc(order["created_at"])
    hour, day = hour_key(created), local_day(created, zone)
    counts = {"listed": 0, "fulfilled": 0, "cancelled": 0}
    if change == "fulfilled":
        fulfilled = {**dict.fromkeys(FIGURES, 0), **counts, "fulfilled": 1}
        yield Effect(HOUR, hour, fulfilled)
        yield Effect(DAY, day, fulfilled)
        return
    sign = -1 if change == "cancelled" else 1
    figures = order_figures(order, sign)
    counts["listed" if change == "placed" else "cancelled"] = 1
    hour_delta = {**figures, **counts}
    # Four quarters' [orders, quantity, revenue_cents] in one flat list (FerretDB v1 stores no
    # nested arrays).
    hour_delta["quarters"] = [0] * 12
    first = 3 * (created.minute // 15)
    hour_delta["quarters"][first : first + 3] = [figures[name] for name in FIGURES]
    if change == "placed":
        hour_delta["per_minute"] = [0] * 60
        hour_delta["per_minute"][created.minute] = 1
    lines = order_lines(order, sign)
    goods, buyers = {part: lines[part] for part in GOODS}, {"customers": lines["customers"]}
    yield Effect(HOUR, hour, hour_delta)
    yield Effect(HOUR_LINES, hour, goods)
    yield Effect(HOUR_BUYERS, hour, buyers)
    yield Effect(DAY, day, {**figures, **counts})
    yield Effect(DAY_LINES, day, goods)
    yield Effect(DAY_BUYERS, day, buyers)
    yield Effect(MONTH, day[:7], figures)
    yield Effect(MONTH_LINES, day[:7], goods)
    yield Effect(MONTH_BUYERS, day[:7], buyers)
    customer = {"orders": sign, "total_cents": sign * order["total_cents"]}
    if change == "placed":
        customer["first_order_at"] = customer["last_order_at"] = created
    else:
        customer["cancelled_at"] = created  # first/last may have to be found again
    yield Effect(CUSTOMER, order["customer"], customer)


def entry_effects(entry: dict, zone: ZoneInfo) -> Iterator[Effect]:
    """The effects of a ledger entry: a committed purchase places its orders, a status change
    cancels or fulfils its order; an aborted purchase changes nothing."""
    if entry.get("outcome") == "commit":
        for order in entry["orders"]:
            yield from order_effects(order, "placed", zone)
    elif entry.get("status") in ("cancelled", "fulfilled"):
        yield from order_effects(entry["order"], entry["status"], zone)


def in_order(entries) -> list[dict]:
    """Entries in the order their effects are added: purchases before status changes (an order's
    cancel must meet its purchase's first and last times, never the other way round)."""
    return sorted(entries, key=lambda entry: entry.get("outcome") != "commit")


def open_summary(kind: str, doc: dict | None) -> dict:
    """A summary to add to in place (its rows keyed): add_into, then close_summary."""
    out = dict(doc or {})
    for part in LINE_PARTS.get(kind, ()):
        key = LINES[part][0]
        out[part] = {row[key]: dict(row) for row in out.get(part, [])}
    return out


def add_into(kind: str, acc: dict, delta: dict) -> None:
    """Add `delta` to an opened summary (in place: a rebuild adds millions of deltas)."""
    if kind in LINE_PARTS:
        for part in LINE_PARTS[kind]:
            add_rows_into(part, acc.setdefault(part, {}), delta.get(part, {}).values())
        return
    if kind == CUSTOMER:
        _add_customer(acc, delta)
        return
    for name, value in delta.items():
        if name in ("per_minute", "quarters"):
            acc[name] = _add_lists(acc.get(name), value)
        else:
            acc[name] = acc.get(name, 0) + value


def close_summary(kind: str, acc: dict) -> dict:
    """The stored shape of an opened summary: rows as lists, rows summing to nothing dropped."""
    for part in LINE_PARTS.get(kind, ()):
        numbers, rows = LINES[part][1], acc.get(part, {}).values()
        acc[part] = [row for row in rows if any(row[name] for name in numbers)]
    return acc


def add(kind: str, summary: dict | None, delta: dict) -> dict:
    """The summary of `kind` with `delta` added (a new dict; `summary` None is empty)."""
    acc = open_summary(kind, summary)
    add_into(kind, acc, delta)
    return close_summary(kind, acc)


def _add_lists(old, new):
    return new if old is None else [a + b for a, b in zip(old, new, strict=True)]


def _add_customer(out: dict, delta: dict) -> dict:
    out["orders"] = out.get("orders", 0) + delta["orders"]
    out["total_cents"] = out.get("total_cents", 0) + delta["total_cents"]
    if "first_order_at" in delta:
        first, last = out.get("first_order_at"), out.get("last_order_at")
        at = delta["first_order_at"]
        out["first_order_at"] = at if first is None else min(as_utc(first), at)
        out["last_order_at"] = at if last is None else max(as_utc(last), at)
    elif out.get("orders", 0) <= 0 or delta["cancelled_at"] in (
        out.get("first_order_at") and as_utc(out["first_order_at"]),
        out.get("last_order_at") and as_utc(out["last_order_at"]),
    ):
        out["stale_times"] = True  # the cancelled order was the first or last: found again
    return out


def add_rows(part: str, rows: Iterable[dict], more: Iterable[dict]) -> list[dict]:
    """Rows of a lines part summed by key; rows that sum to nothing are dropped. A product keeps
    the name of its latest order (created_at, then id)."""
    merged: dict[str, dict] = {}
    add_rows_into(part, merged, rows)
    add_rows_into(part, merged, more)
    numbers = LINES[part][1]
    return [row for row in merged.values() if any(row[name] for name in numbers)]


def add_rows_into(part: str, merged: dict[str, dict], rows: Iterable[dict]) -> None:
    key, numbers = LINES[part]
    for row in rows:
        held = merged.get(row[key])
        if held is None:
            merged[row[key]] = dict(row)
            continue
        for name in numbers:
            held[name] += row[name]
        if part == "products" and (row["last_at"], row["last_id"]) > (
            held["last_at"],
            held["last_id"],
        ):
            held.update(name=row["name"], last_at=row["last_at"], last_id=row["last_id"])


def summarize(orders: Iterable[dict]) -> tuple[dict, dict]:
    """(figures, lines as {part: [rows]}) of some orders, cancelled ones left out."""
    figures = dict.fromkeys(FIGURES, 0)
    lines: dict[str, dict] = {part: {} for part in LINES}
    for order in orders:
        if order.get("status") == "cancelled":
            continue
        for name, value in order_figures(order).items():
            figures[name] += value
        for part, rows in order_lines(order).items():
            add_rows_into(part, lines[part], rows.values())
    return figures, {part: list(rows.values()) for part, rows in lines.items()}
