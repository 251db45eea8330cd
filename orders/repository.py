"""The orders collection: the only module that talks to it.

Document shape (see helper-datamodel, orders/documents.py): {_id, customer, created_at, day,
hour, minute ("YYYY-MM-DDTHH:MM", absent in orders stored before it), items: [{product_id, name,
category, unit_price_cents, quantity, line_total_cents}], total_cents, quantity, created_by}.
Reads are equalities on `_id`, `day`, `hour`, `minute` or `customer` (the sales summaries give
the days, hours and minutes and their counts), never a sort or a range over the whole
collection.

Every insert writes the sales summaries' markers for its orders' hours and customers, before AND
after the insert (orders/summaries.py explains why both): whoever places orders through here keeps
the summaries exact, even if it dies half-way.
"""

from collections.abc import Callable

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError

from shopsite.mongo import ensure_indexes as create_each
from shopsite.mongo import get_db
from shopsite.mongo import parse_object_id as parse_id  # noqa: F401  (the app's id parser)
from shopsite.timeutil import hour_key, minute_key

from . import summary_repository

COLLECTION = "orders"
# Matched by equality: GIN indexes on FerretDB/PostgreSQL (shopsite/ferretdb_pg.py).
EQUALITY_FIELDS = ["_id", "day", "hour", "minute", "customer"]

INDEXES = [
    IndexModel([("created_at", DESCENDING)], name="created_at"),
    IndexModel([("customer", ASCENDING), ("created_at", DESCENDING)], name="customer_created_at"),
    # The lists and the summaries read orders day by day.
    IndexModel([("day", ASCENDING)], name="day"),
    # ... and hour by hour within a busy day.
    IndexModel([("hour", ASCENDING)], name="hour"),
    # ... and minute by minute within a busy hour.
    IndexModel([("minute", ASCENDING)], name="minute"),
]
DUPLICATE_KEY = 11000


def orders() -> Collection:
    return get_db()[COLLECTION]


def ensure_indexes() -> list[str]:
    return create_each(orders(), INDEXES)


# Test-only: called between the insert and the confirming markers (to kill a process there).
AFTER_INSERT_HOOK: Callable[[list[dict]], None] | None = None


def insert_many(docs: list[dict], *, again: bool = False) -> list[dict]:
    """Insert the orders; idempotent when the ids are given (the purchase fixes them in its
    intent): orders already stored are kept, the missing ones written. A failure is raised and
    nothing is removed: the purchase recovery stores the rest later (orders/services.py).

    The sales summaries' markers (orders/summaries.py): before the insert, one per hour and
    customer naming the orders with their figures; after it, one confirming each if this insert
    stored every order itself, else (some were already stored, or it failed) a "recompute" one.
    `again` (the recovery storing a purchase's orders, which may be stored already): "recompute"
    markers only, before and after, so no order is ever named by two markers."""
    for doc in docs:
        doc.setdefault("_id", ObjectId())
    keys = {
        "hours": {summary_repository.order_hour(doc) for doc in docs},
        "customers": {doc["customer"] for doc in docs},
    }
    if again:
        summary_repository.mark_dirty(**keys)
    else:
        pending = summary_repository.mark_pending(docs)
    try:
        orders().insert_many(docs, ordered=False)
    except BulkWriteError as exc:
        summary_repository.mark_dirty(**keys)  # some may be stored: recompute them
        errors = exc.details.get("writeErrors", [])
        if not errors or any(error.get("code") != DUPLICATE_KEY for error in errors):
            raise
        return docs
    if AFTER_INSERT_HOOK is not None:
        AFTER_INSERT_HOOK(docs)
    if again:
        summary_repository.mark_dirty(**keys)
    else:
        summary_repository.mark_stored(pending)
    return docs


def find_by_id(order_id: ObjectId) -> dict | None:
    return orders().find_one({"_id": order_id})


def newest_first(docs: list[dict]) -> list[dict]:
    """Newest first; equal times: the later-inserted first (ObjectIds grow), so pages are stable."""
    return sorted(docs, key=lambda doc: (doc["created_at"], doc["_id"]), reverse=True)


def find_each(ids: list[ObjectId], projection: dict | None = None) -> list[dict]:
    """The orders with these ids that exist, one `_id` equality each (FerretDB pushes an
    equality down, not `$in`); for a handful of ids."""
    found = (orders().find_one({"_id": order_id}, projection) for order_id in ids)
    return [doc for doc in found if doc is not None]


def find_day(day: str, projection: dict | None = None) -> list[dict]:
    """The orders of one UTC day (equality on `day`), unsorted."""
    return list(orders().find({"day": day}, projection))


def find_hour(hour: str, projection: dict | None = None) -> list[dict]:
    """The orders of one UTC hour ("YYYY-MM-DDTHH", equality on `hour`), unsorted."""
    return list(orders().find({"hour": hour}, projection))


def find_minute(minute: str, projection: dict | None = None) -> list[dict]:
    """The orders of one UTC minute ("YYYY-MM-DDTHH:MM", equality on `minute`), unsorted."""
    return list(orders().find({"minute": minute}, projection))


def add_minutes(docs: list[dict]) -> int:
    """Store the UTC `minute` of those of `docs` (read with `created_at` and `minute`) stored
    before orders carried it, and set it in the docs too; returns how many. Derived from
    `created_at` alone, so a repeat or a race writes the same value."""
    missing = [doc for doc in docs if "minute" not in doc]
    for doc in missing:
        doc["minute"] = minute_key(doc["created_at"])
        # One command per order: FerretDB v1 hung (its PostgreSQL pool exhausted) on one update
        # command of 130 statements.
        orders().update_one({"_id": doc["_id"]}, {"$set": {"minute": doc["minute"]}})
    return len(missing)


def find_customer(name: str, projection: dict | None = None) -> list[dict]:
    """All of one customer's orders (equality on `customer`), unsorted."""
    return list(orders().find({"customer": str(name)}, projection))


def scan_keys() -> tuple[set[str], set[str], set[str]]:
    """(hours, days, customers) with orders, in one streamed pass over the whole collection
    (rebuilds only). Orders stored without their `hour` (before orders carried it, or restored
    from such a backup) get it on the way. A plain find streams batch by batch on every server;
    a filter or a pipeline over all orders can outlast the socket timeout on FerretDB."""
    hours, days, customers = set(), set(), set()
    cursor = orders().find({}, {"created_at": 1, "day": 1, "hour": 1, "customer": 1})
    for doc in cursor.batch_size(2000):
        hour = doc.get("hour")
        if hour is None:
            hour = hour_key(doc["created_at"])
            orders().update_one({"_id": doc["_id"]}, {"$set": {"hour": hour}})
        hours.add(hour)
        days.add(doc["day"])
        customers.add(doc["customer"])
    return hours, days, customers
