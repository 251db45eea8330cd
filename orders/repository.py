"""The orders collection: the only module that talks to it.

Document shape (see helper-datamodel): {_id, customer, created_at, day, items: [{product_id,
name, category, unit_price_cents, quantity, line_total_cents}], total_cents, quantity,
created_by}. Lists are indexed sorted queries with skip/limit, never a whole collection.
"""

from datetime import datetime

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError

from shopsite.mongo import ensure_indexes as create_each
from shopsite.mongo import get_db
from shopsite.mongo import parse_object_id as parse_id  # noqa: F401  (the app's id parser)

COLLECTION = "orders"
# Matched by equality: GIN indexes on FerretDB/PostgreSQL (shopsite/ferretdb_pg.py).
EQUALITY_FIELDS = ["_id", "day", "customer"]

INDEXES = [
    IndexModel([("created_at", DESCENDING)], name="created_at"),
    IndexModel([("customer", ASCENDING), ("created_at", DESCENDING)], name="customer_created_at"),
]

NEWEST_FIRST = [("created_at", DESCENDING)]
DUPLICATE_KEY = 11000


def orders() -> Collection:
    return get_db()[COLLECTION]


def ensure_indexes() -> list[str]:
    return create_each(orders(), INDEXES)


def insert_many(docs: list[dict]) -> list[dict]:
    """Insert the orders; idempotent when the ids are given (the purchase fixes them in its
    intent): orders already stored are kept, the missing ones written. A failure is raised and
    nothing is removed: the purchase recovery stores the rest later (orders/services.py)."""
    for doc in docs:
        doc.setdefault("_id", ObjectId())
    try:
        orders().insert_many(docs, ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if not errors or any(error.get("code") != DUPLICATE_KEY for error in errors):
            raise
    return docs


def find_by_id(order_id: ObjectId) -> dict | None:
    return orders().find_one({"_id": order_id})


def recent(limit: int) -> list[dict]:
    return list(orders().find({}).sort(NEWEST_FIRST).limit(limit))


def since_filter(*, since: datetime, customer: str | None = None) -> dict:
    query: dict = {"created_at": {"$gte": since}}
    if customer is not None:
        query["customer"] = str(customer)
    return query


def count(query: dict) -> int:
    return orders().count_documents(query)


def find_page(query: dict, *, skip: int, limit: int) -> list[dict]:
    return list(orders().find(query).sort(NEWEST_FIRST).skip(skip).limit(limit))


def find_iter(query: dict):
    """Every order `query` selects, newest first, read in batches (a cursor, not a list).
    One query rather than a walk over days: an export reads the whole window anyway, and on
    FerretDB each per-day query would scan the collection again."""
    return orders().find(query).sort(NEWEST_FIRST).batch_size(1000)
