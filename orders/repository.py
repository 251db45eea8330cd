"""The orders collection: the only module that talks to it.

Document shape (orders/documents.py): {_id, customer, created_at, day, hour, minute (UTC keys),
items: [{product_id, name, category, unit_price_cents, quantity, line_total_cents}],
total_cents, quantity, created_by, status ("placed" | "fulfilled" | "cancelled"; absent in
orders stored before it: placed), fulfilled_at, cancelled_at, cancel_reason}. Reads are
equalities on `_id`, `day`, `hour`, `minute` or `customer` (the sales module gives the counts),
never a sort or a range over the whole collection. The sales figures follow the sales ledger
(orders/sales), written before any change here.
"""

import contextlib
from collections.abc import Iterator

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from shopsite.mongo import ensure_indexes as create_each
from shopsite.mongo import get_db
from shopsite.mongo import parse_object_id as parse_id  # noqa: F401  (the app's id parser)
from shopsite.timeutil import day_key, hour_key, minute_key

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


def insert_many(docs: list[dict]) -> list[dict]:
    """Insert the orders (their ids fixed by the purchase); orders already stored are kept, the
    missing ones written, so the recovery may store a purchase's orders again."""
    try:
        orders().insert_many(docs, ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if not errors or any(error.get("code") != DUPLICATE_KEY for error in errors):
            raise
    return docs


def set_status(order_id: ObjectId, fields: dict) -> None:
    """Write an order's decided status change (idempotent: the same fields every time)."""
    orders().update_one({"_id": order_id}, {"$set": fields})


def any_order() -> bool:
    return orders().find_one({}, {"_id": 1}) is not None


# Orders whose change of status is decided and maybe not carried out yet: {_id: order id, at}
# (inserted before the decision, deleted once it is done; the recovery finishes the rest).
CHANGING = "order_changes_pending"


def changing_add(order_id: ObjectId, at) -> None:
    with contextlib.suppress(DuplicateKeyError):  # a racing change: one note serves both
        get_db()[CHANGING].insert_one({"_id": order_id, "at": at})


def changing_remove(order_id: ObjectId) -> None:
    get_db()[CHANGING].delete_one({"_id": order_id})


def changing() -> list[dict]:
    """Every pending change (few: each lives for the length of one request)."""
    return list(get_db()[CHANGING].find({}))


def find_by_id(order_id: ObjectId, projection: dict | None = None) -> dict | None:
    return orders().find_one({"_id": order_id}, projection)


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


def find_customer(name: str, projection: dict | None = None) -> list[dict]:
    """All of one customer's orders (equality on `customer`), unsorted."""
    return list(orders().find({"customer": str(name)}, projection))


def scan_all() -> Iterator[dict]:
    """Every order, streamed batch by batch (rebuilds and verification only: a plain find
    streams on every server; a filter or pipeline over all orders can outlast the socket
    timeout on FerretDB)."""
    fields = {"created_at": 1, "customer": 1, "items": 1, "total_cents": 1, "quantity": 1}
    return orders().find({}, {**fields, "status": 1, "minute": 1}).batch_size(2000)


def add_time_keys(doc: dict) -> None:
    """Give an order stored without its UTC hour and minute keys (written behind the write path,
    or by an older version) those keys, so lists find it by equality. From `created_at` alone:
    a repeat or a race writes the same values."""
    at = doc["created_at"]
    keys = {"day": day_key(at), "hour": hour_key(at), "minute": minute_key(at)}
    orders().update_one({"_id": doc["_id"]}, {"$set": keys})
