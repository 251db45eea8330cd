"""The products collection: the only module that talks to it."""

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.collection import Collection

from shopsite.mongo import ensure_indexes as create_each
from shopsite.mongo import get_db

COLLECTION = "products"

INDEXES = [
    # The seed's requirement: filtering by category uses this index.
    IndexModel([("category", ASCENDING), ("created_at", DESCENDING)], name="category"),
    IndexModel([("created_at", DESCENDING)], name="created_at"),
    IndexModel([("available", ASCENDING), ("created_at", DESCENDING)], name="available"),
]


def products() -> Collection:
    return get_db()[COLLECTION]


def ensure_indexes() -> list[str]:
    return create_each(products(), INDEXES)
