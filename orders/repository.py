"""The orders collection: the only module that talks to it."""

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.collection import Collection

from shopsite.mongo import ensure_indexes as create_each
from shopsite.mongo import get_db

COLLECTION = "orders"

INDEXES = [
    IndexModel([("created_at", DESCENDING)], name="created_at"),
    IndexModel([("customer", ASCENDING), ("created_at", DESCENDING)], name="customer_created_at"),
]


def orders() -> Collection:
    return get_db()[COLLECTION]


def ensure_indexes() -> list[str]:
    return create_each(orders(), INDEXES)
