"""The products collection: the only module that talks to it.

Document shape (see helper-datamodel): {_id, name, name_lower, category, price_cents, stock,
available, description, created_at, updated_at}, and once its stock was changed under a lock:
stock_fence (the fencing token of the last write, locks.py) and stock_marks (open purchase
intents that took stock). Filters are built here from typed arguments,
never from user-supplied dicts.
"""

import contextlib
import re
from collections.abc import Iterable

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.collection import Collection

from shopsite.mongo import ensure_indexes as create_each
from shopsite.mongo import get_db
from shopsite.mongo import parse_object_id as parse_id  # noqa: F401  (the app's id parser)

COLLECTION = "products"
MARKS = "stock_marks"
FENCE = "stock_fence"
# Matched by equality: GIN indexes on FerretDB/PostgreSQL (shopsite/ferretdb_pg.py).
EQUALITY_FIELDS = ["_id", "category", "available"]

INDEXES = [
    # The seed's requirement: filtering by category uses this index.
    IndexModel([("category", ASCENDING), ("created_at", DESCENDING)], name="category"),
    IndexModel([("created_at", DESCENDING)], name="created_at"),
    IndexModel([("available", ASCENDING), ("created_at", DESCENDING)], name="available"),
    # The home page's low-stock panel: for-sale products, lowest stock first.
    IndexModel([("available", ASCENDING), ("stock", ASCENDING)], name="available_stock"),
]

# Newest first. The sort key is the indexes' second key, so MongoDB walks the index in order
# (no in-memory sort) for the unfiltered, category and available lists.
NEWEST_FIRST = [("created_at", DESCENDING)]


def products() -> Collection:
    return get_db()[COLLECTION]


def ensure_indexes() -> list[str]:
    return create_each(products(), INDEXES)


def list_filter(
    *, category: str | None = None, available: bool | None = None, q: str | None = None
) -> dict:
    query: dict = {}
    if category is not None:
        query["category"] = str(category)
    if available is not None:
        query["available"] = bool(available)
    if q:
        # Escaped: the user's text is a literal substring, never a pattern.
        query["name_lower"] = {"$regex": re.escape(str(q).lower())}
    return query


def count(query: dict) -> int:
    return products().count_documents(query)


def find_page(query: dict, *, skip: int, limit: int, sort: list | None = None) -> list[dict]:
    """One page; `sort` (pymongo key list, default newest first) gets `_id` appended so pages
    of equal keys neither repeat nor skip a product."""
    keys = list(sort or NEWEST_FIRST) + [("_id", ASCENDING)]
    return list(products().find(query).sort(keys).skip(skip).limit(limit))


def low_stock_filter(threshold: int) -> dict:
    return {"available": True, "stock": {"$lte": threshold}}


def find_low_stock(threshold: int, *, limit: int) -> list[dict]:
    """For-sale products at or under the threshold, lowest stock first (sorted by the store,
    so the lowest are never cut off by the limit), then by name."""
    query = low_stock_filter(threshold)
    cursor = products().find(query).sort([("stock", ASCENDING), ("name", ASCENDING)])
    return list(cursor.limit(limit))


def find_by_id(product_id: ObjectId) -> dict | None:
    return products().find_one({"_id": product_id})


# Up to this many ids are fetched one by one: FerretDB pushes only an `_id` equality down to
# SQLite, so `$in` scans the whole collection there (30 ms at 300 products vs 2 ms per id);
# on MongoDB both are index lookups.
FETCH_ONE_BY_ONE_MAX = 16


def find_by_ids(product_ids: Iterable[ObjectId]) -> dict[ObjectId, dict]:
    ids = list(dict.fromkeys(product_ids))
    if len(ids) <= FETCH_ONE_BY_ONE_MAX:
        found = (products().find_one({"_id": oid}) for oid in ids)
        return {doc["_id"]: doc for doc in found if doc is not None}
    return {doc["_id"]: doc for doc in products().find({"_id": {"$in": ids}})}


def insert_one(doc: dict) -> dict:
    result = products().insert_one(doc)
    doc["_id"] = result.inserted_id
    return doc


def insert_many(docs: list[dict]) -> list[dict]:
    """Insert in order; if the server fails half-way, remove what was written (no transactions)."""
    for doc in docs:
        doc.setdefault("_id", ObjectId())
    try:
        products().insert_many(docs, ordered=True)
    except Exception:
        # Best effort; the original error is what the caller must see.
        with contextlib.suppress(Exception):
            products().delete_many({"_id": {"$in": [doc["_id"] for doc in docs]}})
        raise
    return docs


def _fenced(query: dict, fence: int | None) -> dict:
    """Only a product whose fence is at most the writer's token (or has none) matches; see
    locks.py. Without a token (tests, one-off scripts) the write is unfenced."""
    if fence is not None:
        query[FENCE] = {"$not": {"$gt": fence}}
    return query


def _fence_set(update: dict, fence: int | None, now) -> dict:
    fields = update.setdefault("$set", {})
    fields["updated_at"] = now
    if fence is not None:
        fields[FENCE] = fence
    return update


def update_fields(product_id: ObjectId, fields: dict, *, fence: int | None = None) -> dict | None:
    """$set the given (already validated) fields; the document after, or None if missing (or
    fenced off)."""
    update = {"$set": dict(fields)}
    if fence is not None:
        update["$set"][FENCE] = fence
    return products().find_one_and_update(
        _fenced({"_id": product_id}, fence), update, return_document=ReturnDocument.AFTER
    )


def stock_add(
    product_id: ObjectId,
    delta: int,
    *,
    now,
    fence: int | None = None,
    minimum_after: int = 0,
    maximum_after: int | None = None,
    require_available: bool = False,
) -> dict | None:
    """Guarded $inc: applied only if the result stays within bounds (atomic on MongoDB; on
    FerretDB the caller holds the product's stock lock). The document after, or None."""
    query: dict = {"_id": product_id}
    bounds: dict = {}
    if delta < 0 or minimum_after > 0:
        bounds["$gte"] = minimum_after - delta
    if maximum_after is not None and delta > 0:
        bounds["$lte"] = maximum_after - delta
    if bounds:
        query["stock"] = bounds
    if require_available:
        query["available"] = True
    return products().find_one_and_update(
        _fenced(query, fence),
        _fence_set({"$inc": {"stock": delta}}, fence, now),
        return_document=ReturnDocument.AFTER,
    )


# --- Stock taken for a purchase intent (orders/purchase.py) ---------------------------------------
# The product records which intents its stock was taken for (`stock_marks`: "<intent>:<qty>"),
# in the same update that takes it, so recovery can tell whether a take happened and undo or
# settle it exactly once.
def stock_take_marked(
    product_id: ObjectId, quantity: int, *, mark: str, fence: int, now
) -> dict | None:
    """Take `quantity` unless already taken for `mark`; the document after, or None (too
    little stock, unavailable, missing, already marked, or fenced off)."""
    query = {
        "_id": product_id,
        "stock": {"$gte": quantity},
        "available": True,
        MARKS: {"$ne": mark},
    }
    return products().find_one_and_update(
        _fenced(query, fence),
        _fence_set({"$inc": {"stock": -quantity}, "$push": {MARKS: mark}}, fence, now),
        return_document=ReturnDocument.AFTER,
    )


def stock_return_marked(
    product_id: ObjectId, quantity: int, *, mark: str, fence: int, now
) -> dict | None:
    """Give back what was taken for `mark` (once: the mark goes with it); None if there is no
    such mark (never taken, or given back already) or fenced off."""
    return products().find_one_and_update(
        _fenced({"_id": product_id, MARKS: mark}, fence),
        _fence_set({"$inc": {"stock": quantity}, "$pull": {MARKS: mark}}, fence, now),
        return_document=ReturnDocument.AFTER,
    )


def stock_unmark(product_id: ObjectId, *, marks: list[str], fence: int, now) -> dict | None:
    """Forget marks (their orders are placed: the stock stays taken); None if fenced off."""
    return products().find_one_and_update(
        _fenced({"_id": product_id}, fence),
        _fence_set({"$pullAll": {MARKS: list(marks)}}, fence, now),
        return_document=ReturnDocument.AFTER,
    )


def stock_give_back_marked(
    product_id: ObjectId, quantity: int, *, mark: str, fence: int, now
) -> dict | None:
    """Add `quantity` back (a cancelled order's) unless already done for `mark`; the document
    after, or None (missing, given back already, or fenced off)."""
    return products().find_one_and_update(
        _fenced({"_id": product_id, MARKS: {"$ne": mark}}, fence),
        _fence_set({"$inc": {"stock": quantity}, "$push": {MARKS: mark}}, fence, now),
        return_document=ReturnDocument.AFTER,
    )


def fence_raise(product_id: ObjectId, *, fence: int, now) -> None:
    """Raise the product's fence to `fence` (no other change): a stalled holder's later write is
    then rejected even if nobody else wrote in between."""
    products().update_one(_fenced({"_id": product_id}, fence), _fence_set({}, fence, now))


def delete_one(product_id: ObjectId) -> bool:
    return products().delete_one({"_id": product_id}).deleted_count == 1


def unavailable_count() -> int:
    return products().count_documents({"available": False})


def unavailable_ids(limit: int = 1000) -> list[ObjectId]:
    """Up to `limit` ids of unavailable products (the `available` index; never the whole
    collection in memory)."""
    cursor = products().find({"available": False}, {"_id": 1}).limit(limit)
    return [doc["_id"] for doc in cursor]


def delete_unavailable(product_ids: list[ObjectId]) -> int:
    """Delete those of the given products that are still unavailable."""
    return products().delete_many({"_id": {"$in": product_ids}, "available": False}).deleted_count


def explain_list(query: dict, *, limit: int = 50) -> dict:
    """The server's plan for a list query (tests check the category index is used)."""
    return products().find(query).sort(NEWEST_FIRST).limit(limit).explain()


def find_iter(query: dict):
    """Every product `query` selects, newest first, read in batches (a cursor, not a list)."""
    return products().find(query).sort(NEWEST_FIRST).batch_size(1000)


def find_by_names(names: Iterable[str]) -> list[dict]:
    """Products with any of these exact names (one query; the caller narrows by category)."""
    names = sorted({str(name) for name in names})
    if not names:
        return []
    return list(products().find({"name": {"$in": names}}))


def restore_fields(product_id: ObjectId, *, expected: dict, previous: dict) -> dict | None:
    """Put `previous` back if the product still holds `expected` (an undo that leaves alone a
    field someone changed since). The document after, or None when nothing matched."""
    return products().find_one_and_update(
        {"_id": product_id, **expected},
        {"$set": previous},
        return_document=ReturnDocument.AFTER,
    )
