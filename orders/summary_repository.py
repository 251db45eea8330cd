"""The sales summaries' collections (MongoDB's Computed pattern): the only module touching them.

Derived data, recomputable from `orders` at any time (orders/summaries.py does it):
- `sales_hours`          {_id: hour, day, orders, quantity, revenue_cents, products, categories,
                         customers, moments, per_minute, minutes, absorbed, v}: one UTC hour's
                         orders, the unit that is recomputed (moments: see orders/figures.py;
                         absent in hours stored before them, which are then read from their
                         orders; per_minute: 60 counts, absent in hours stored before them, then
                         counted from the moments; absorbed and v: see orders/summaries.py);
- `sales_days`           {_id: day, month, orders, quantity, revenue_cents}: small, so the
                         order lists can list days and their counts cheaply;
- `sales_day_lines`      {_id: day, month, products: [...], categories: [...]};
- `sales_day_customers`  {_id: day, month, customers: [...]} (the Sales page's top customers)
                         (the three day collections are sums of the day's hours);
- `sales_months`, `sales_month_lines`, `sales_month_customers`: the same per calendar month
                         ({_id: "YYYY-MM", year, ...}), sums of the month's days, so a long
                         window reads a document per whole month instead of one per day;
- `sales_customers`      {_id: customer, orders, total_cents, first_order_at, last_order_at,
                         absorbed, v};
- `sales_dirty`          markers, each a document of its own, {_id, kind: "hour", hour, day, ...}
                         or {_id, kind: "customer", customer, ...}: "before" an insert (+ the
                         orders' ids and figures), "confirming" one (+ confirms: its _id) or
                         "recompute" (nothing more); a key with markers may be stale;
- `sales_meta`           {_id: BUILT} once the summaries cover every order.
The rows of `products`, `categories`, `customers` and `moments` are stored as one JSON string
each (orders/summary_codec.py: FerretDB reads one string far faster than many sub-documents).
Every read here is an equality on `_id`, `year`, `month`, `day`, `hour`, `kind` or `customer`
(an index on MongoDB, a pushed-down filter served by a GIN index on FerretDB/PostgreSQL), except
the long-window fallback of day_docs and the order lists, which read the small `sales_days`
documents only.
"""

import contextlib
from collections.abc import Iterable, Iterator

from bson import ObjectId
from pymongo import ASCENDING, IndexModel
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from shopsite.mongo import ensure_indexes as create_each
from shopsite.mongo import get_db
from shopsite.timeutil import hour_key

from .figures import hour_summary, summarize_customer
from .summary_codec import months_back, months_between
from .summary_codec import pack as _pack
from .summary_codec import unpack as _unpack

# The layout's name: a store built in an older layout (per-day only, rows as sub-documents) is
# rebuilt on first use.
BUILT = "built-hourly-packed"
# Month summaries came after: a store without this key has them built from its days (cheap).
MONTHS_BUILT = "built-months"


class SummaryCollection:
    """What init_mongo needs of a collection (like a repository module): its name, its indexes
    and the top-level fields read by equality (GIN indexes on FerretDB/PostgreSQL)."""

    def __init__(self, name: str, equality_fields: list[str], indexes: list[IndexModel]):
        self.COLLECTION = name
        self.EQUALITY_FIELDS = equality_fields
        self.INDEXES = indexes

    def collection(self) -> Collection:
        return get_db()[self.COLLECTION]

    def ensure_indexes(self) -> list[str]:
        return create_each(self.collection(), self.INDEXES) if self.INDEXES else []


def _by(field: str) -> list[IndexModel]:
    return [IndexModel([(field, ASCENDING)], name=field)]


# Every name starts with "sales_" (orders.services.SUMMARY_COLLECTION_PREFIX: not backed up).
HOURS = SummaryCollection("sales_hours", ["_id", "day"], _by("day"))
DAYS = SummaryCollection("sales_days", ["_id", "month"], _by("month"))
DAY_LINES = SummaryCollection("sales_day_lines", ["_id", "month"], _by("month"))
DAY_CUSTOMERS = SummaryCollection("sales_day_customers", ["_id", "month"], _by("month"))
MONTHS = SummaryCollection("sales_months", ["_id", "year"], _by("year"))
MONTH_LINES = SummaryCollection("sales_month_lines", ["_id", "year"], _by("year"))
MONTH_CUSTOMERS = SummaryCollection("sales_month_customers", ["_id", "year"], _by("year"))
CUSTOMERS = SummaryCollection("sales_customers", ["_id"], [])
# The dirty markers of hours {_id, kind: "hour", hour, day} and customers {_id, kind: "customer",
# customer}, in one collection: an insert writes all of its markers in one command.
DIRTY = SummaryCollection(
    "sales_dirty",
    ["kind", "hour", "day", "customer"],
    [*_by("kind"), *_by("hour"), *_by("day"), *_by("customer")],
)
META = SummaryCollection("sales_meta", ["_id"], [])

PER_DAY = [DAYS, DAY_LINES, DAY_CUSTOMERS]
PER_MONTH = [MONTHS, MONTH_LINES, MONTH_CUSTOMERS]
ALL = [HOURS, *PER_DAY, *PER_MONTH, CUSTOMERS, DIRTY, META]
# Marker collections of earlier versions (init_mongo drops them; a new BUILT rebuilds everything).
OBSOLETE = ["sales_dirty_hours", "sales_dirty_customers"]


# --- dirty markers (insert-only: inserts are atomic on both servers) -----------------------------


def mark_pending(orders: list[dict]) -> list[dict]:
    """Before an insert: one marker per hour and customer naming the orders about to be written
    and carrying their figures (added to the summary once the insert is confirmed). Returns the
    markers, for mark_stored."""
    by_hour: dict[str, list] = {}
    by_customer: dict[str, list] = {}
    for order in orders:
        by_hour.setdefault(order_hour(order), []).append(order)
        by_customer.setdefault(order["customer"], []).append(order)
    markers = [
        _hour_marker(hour, orders=_ids(docs), figures=_marker_figures(docs))
        for hour, docs in sorted(by_hour.items())
    ] + [
        _customer_marker(name, orders=_ids(docs), figures=summarize_customer(docs))
        for name, docs in sorted(by_customer.items())
    ]
    _insert_markers(markers)
    return markers


def _marker_figures(docs: list[dict]) -> dict:
    # Without the 60 per-minute counts: every read of a dirty hour reads its markers, and their
    # few moments give the counts (figures.minute_counts).
    summary = hour_summary(docs)
    del summary["per_minute"]
    return _pack(summary)


def mark_stored(pending: list[dict]) -> None:
    """After an insert that stored every one of its orders itself: one marker per marker of
    mark_pending, confirming it (its figures may then be added without reading the orders)."""
    _insert_markers(
        [
            {
                "_id": ObjectId(),
                **{k: m[k] for k in ("kind", "hour", "day", "customer") if k in m},
                "confirms": m["_id"],
            }
            for m in pending
        ]
    )


def _ids(docs: list[dict]) -> list:
    return [doc["_id"] for doc in docs]


def order_hour(order: dict) -> str:
    # Orders stored before they carried their hour (a restore of an old backup) get it here.
    return order.get("hour") or hour_key(order["created_at"])


def _hour_marker(hour: str, **fields) -> dict:
    return {"_id": ObjectId(), "kind": "hour", "hour": hour, "day": hour[:10], **fields}


def _customer_marker(name: str, **fields) -> dict:
    return {"_id": ObjectId(), "kind": "customer", "customer": name, **fields}


def mark_dirty(*, hours: Iterable[str] = (), customers: Iterable[str] = ()) -> None:
    """One new marker per key (after an insert, or to force a recompute)."""
    _insert_markers(
        [_hour_marker(hour) for hour in sorted(set(hours))]
        + [_customer_marker(name) for name in sorted(set(customers))]
    )


def _insert_markers(docs: list[dict]) -> None:
    # Never updated: inserted, then deleted by a recompute that saw it before reading the orders.
    # An order's markers go in one command (each document is still inserted on its own).
    for start in range(0, len(docs), 1000):
        DIRTY.collection().insert_many(docs[start : start + 1000], ordered=False)


def dirty_hours() -> set[str]:
    """Every hour with a marker (few: the worker's refresh removes them as it recomputes)."""
    return {doc["hour"] for doc in DIRTY.collection().find({"kind": "hour"}, {"hour": 1})}


# What a recompute or a read needs of a marker: the orders it names, their figures, the marker
# it confirms (none of these: a plain "recompute" marker).
MARKER_FIELDS = {"orders": 1, "figures": 1, "confirms": 1}


def hour_markers(hour: str) -> list[dict]:
    return [_unpack_marker(m) for m in DIRTY.collection().find({"hour": hour}, MARKER_FIELDS)]


def _unpack_marker(marker: dict) -> dict:
    if "figures" in marker:
        _unpack(marker["figures"])  # an hour's rows are packed (a customer's have none)
    return marker


def day_hour_markers(day: str) -> dict[str, list[dict]]:
    """The markers of every hour of one day, by hour (one read for a day's recompute)."""
    found: dict[str, list[dict]] = {}
    for marker in DIRTY.collection().find({"day": day}, {"hour": 1, **MARKER_FIELDS}):
        found.setdefault(marker["hour"], []).append(_unpack_marker(marker))
    return found


def customer_markers(name: str) -> list[dict]:
    return list(DIRTY.collection().find({"customer": name}, MARKER_FIELDS))


def dirty_customer_names() -> set[str]:
    return {
        doc["customer"] for doc in DIRTY.collection().find({"kind": "customer"}, {"customer": 1})
    }


def clear_markers(key: dict, ids: list[ObjectId]) -> None:
    """Delete the given markers of one key ({"hour": h} or {"customer": c}: only that kind's
    markers carry the field). The key's equality is what the server narrows on (FerretDB
    evaluates `$in` only after reading every document its pushed-down filter selects), so this
    costs the key's markers, not all of them."""
    for start in range(0, len(ids), 1000):
        DIRTY.collection().delete_many({**key, "_id": {"$in": ids[start : start + 1000]}})


# --- the summaries ----------------------------------------------------------------------------


def is_built(key: str = BUILT) -> bool:
    return META.collection().find_one({"_id": key}) is not None


def unset_built() -> None:
    META.collection().delete_one({"_id": BUILT})


def set_built(key: str = BUILT) -> None:
    # A concurrent first read may set it too: FerretDB's upsert reads, then inserts.
    with contextlib.suppress(DuplicateKeyError):
        META.collection().replace_one({"_id": key}, {"_id": key}, upsert=True)


def write_hour(hour: str, summary: dict | None, absorbed: list | None = None) -> None:
    """Replace the hour's summary (delete it when the hour has no orders), with the markers it
    has absorbed (see orders/summaries.py) and a new version."""
    if summary is None:
        HOURS.collection().delete_one({"_id": hour})
    else:
        doc = _pack({"_id": hour, "day": hour[:10], **summary})
        doc.update(absorbed=absorbed or [], v=ObjectId())
        HOURS.collection().replace_one({"_id": hour}, doc, upsert=True)


def hour_state(hour: str, projection: dict | None = None) -> dict | None:
    """The hour's stored summary with its absorbed markers and version (`v`)."""
    if projection is not None:
        projection = {**projection, "absorbed": 1, "v": 1, "minutes": 1}
    return _unpack(HOURS.collection().find_one({"_id": hour}, projection))


def hour_version(hour: str):
    doc = HOURS.collection().find_one({"_id": hour}, {"v": 1})
    return doc and doc.get("v")


def hour_docs(day: str, projection: dict | None = None) -> dict[str, dict]:
    """The day's stored hour summaries, by hour (at most 24 documents, by day equality)."""
    return {doc["_id"]: _unpack(doc) for doc in HOURS.collection().find({"day": day}, projection)}


def _write_period(kinds: list, key: str, group: dict, totals, lines: dict, customers) -> None:
    """Replace a period's three documents (delete them when it has no orders)."""
    if totals is None:
        for kind in kinds:
            kind.collection().delete_one({"_id": key})
        return
    figures, parts, buyers = kinds
    figures.collection().replace_one({"_id": key}, {"_id": key, **group, **totals}, upsert=True)
    parts.collection().replace_one({"_id": key}, _pack({"_id": key, **group, **lines}), upsert=True)
    buyers.collection().replace_one(
        {"_id": key}, _pack({"_id": key, **group, "customers": customers}), upsert=True
    )


def write_day(day: str, totals: dict | None, lines: dict, customers: list) -> None:
    _write_period(PER_DAY, day, {"month": day[:7]}, totals, lines, customers)


def write_month(month: str, totals: dict | None, lines: dict, customers: list) -> None:
    _write_period(PER_MONTH, month, {"year": month[:4]}, totals, lines, customers)


def days_of_month(month: str) -> list[dict]:
    """The month's day summaries, whole (the three documents of each day joined)."""
    joined: dict[str, dict] = {}
    for kind in PER_DAY:
        for doc in kind.collection().find({"month": month}):
            joined.setdefault(doc["_id"], {}).update(_unpack(doc))
    return list(joined.values())


def month_docs(kind: SummaryCollection, months: list[str], projection: dict) -> Iterator[dict]:
    """The stored documents of the given months: by `_id` (a month's rows are big, so never
    read a month that is not wanted), or by `year` for a year wanted whole or nearly."""
    by_year: dict[str, list[str]] = {}
    for month in sorted(months):
        by_year.setdefault(month[:4], []).append(month)
    for year, wanted in by_year.items():
        if len(wanted) >= 10:
            found = kind.collection().find({"year": year}, projection)
            yield from (_unpack(doc) for doc in found if doc["_id"] in wanted)
            continue
        for month in wanted:
            if (doc := kind.collection().find_one({"_id": month}, projection)) is not None:
                yield _unpack(doc)


def write_customer(name: str, doc: dict | None, absorbed: list | None = None) -> None:
    if doc is None:
        CUSTOMERS.collection().delete_one({"_id": name})
    else:
        doc = {"_id": name, **doc, "absorbed": absorbed or [], "v": ObjectId()}
        CUSTOMERS.collection().replace_one({"_id": name}, doc, upsert=True)


def customer(name: str) -> dict | None:
    """The customer's stored summary, with its absorbed markers and version (`v`)."""
    return CUSTOMERS.collection().find_one({"_id": name})


def customer_version(name: str):
    doc = CUSTOMERS.collection().find_one({"_id": name}, {"v": 1})
    return doc and doc.get("v")


def day_docs(kind: SummaryCollection, days: list[str], projection: dict) -> Iterator[dict]:
    """The stored documents of the given days (ascending list), by month equality; a window of
    more than LONG_WINDOW_MONTHS months reads the collection once instead."""
    if not days:
        return
    wanted = set(days)
    months = sorted({day[:7] for day in days})
    if len(months) > LONG_WINDOW_MONTHS:
        cursor = kind.collection().find({"_id": {"$gte": days[0], "$lte": days[-1]}}, projection)
        yield from (_unpack(doc) for doc in cursor if doc["_id"] in wanted)
        return
    for month in months:
        for doc in kind.collection().find({"month": month}, projection):
            if doc["_id"] in wanted:
                yield _unpack(doc)


LONG_WINDOW_MONTHS = 24


def days_of_months(months: list[str]) -> list[dict]:
    """{_id: day, orders} of the given months."""
    found = []
    for month in months:
        found.extend(DAYS.collection().find({"month": month}, {"orders": 1}))
    return found


def all_days(projection: dict | None = None) -> list[dict]:
    """Every day document of `sales_days` (one small document per day with orders)."""
    return list(DAYS.collection().find({}, projection or {"orders": 1}))


def all_summary_days() -> set[str]:
    return {doc["_id"] for kind in PER_DAY for doc in kind.collection().find({}, {"_id": 1})}


def all_summary_months() -> set[str]:
    return {doc["_id"] for kind in PER_MONTH for doc in kind.collection().find({}, {"_id": 1})}


def all_summary_hours() -> set[str]:
    return {doc["_id"] for doc in HOURS.collection().find({}, {"_id": 1})}


def all_summary_customers() -> set[str]:
    return {doc["_id"] for doc in CUSTOMERS.collection().find({}, {"_id": 1})}


def day_counts_from(first_day: str, last_month: str) -> list[tuple[str, int]]:
    """(day, orders) of the days >= first_day up to the end of last_month, newest first."""
    months = months_between(first_day[:7], last_month)
    if len(months) > LONG_WINDOW_MONTHS:
        docs = [doc for doc in all_days() if doc["_id"] >= first_day]
    else:
        docs = [doc for doc in days_of_months(months) if doc["_id"] >= first_day]
    return sorted(((doc["_id"], doc["orders"]) for doc in docs), reverse=True)


def day_counts_newest_first(last_month: str, recent_months: int = 2) -> Iterator[tuple[str, int]]:
    """(day, orders) of every day, newest first: the latest months by equality, then (only if
    asked for more) the rest of the small `sales_days` documents in one read."""
    months = months_back(last_month, recent_months)
    recent = sorted(((doc["_id"], doc["orders"]) for doc in days_of_months(months)), reverse=True)
    yield from recent
    oldest_month = months[-1]
    older = [(doc["_id"], doc["orders"]) for doc in all_days() if doc["_id"][:7] < oldest_month]
    yield from sorted(older, reverse=True)


def stored_hour(hour: str) -> dict | None:
    return _unpack(HOURS.collection().find_one({"_id": hour}))


def stored_day(day: str) -> tuple[dict | None, dict | None, dict | None]:
    """The day's three stored documents (the rebuild compares them with the orders)."""
    return tuple(_unpack(kind.collection().find_one({"_id": day})) for kind in PER_DAY)


def stored_month(month: str) -> dict | None:
    """The month's three stored documents joined (the rebuild compares them with its days)."""
    docs = [_unpack(kind.collection().find_one({"_id": month})) for kind in PER_MONTH]
    return {k: v for doc in docs if doc for k, v in doc.items()} if docs[0] else None
