"""Business rules for products (HackSoft style: keyword-only functions, `<entity>_<action>`).

Every write of a product document holds the product's stock lock (see locks.py): on FerretDB
an update rewrites the whole document, so even a rename could otherwise undo a concurrent
stock change. Every change records an event.
"""

import logging

from bson import ObjectId

from eventlog.services import event_record
from shopsite.timeutil import utcnow

from . import repository
from .exceptions import ProductNotFound, ProductNotOrderable, StockConflict
from .locks import stock_locks

logger = logging.getLogger(__name__)

MAX_STOCK = 1_000_000_000
UPDATABLE_FIELDS = ("name", "category", "price_cents", "stock", "available", "description")


def _product_doc(
    *, name: str, category: str, price_cents: int, stock: int, available: bool, description: str
) -> dict:
    now = utcnow()
    return {
        "name": name,
        "name_lower": name.lower(),
        "category": category,
        "price_cents": int(price_cents),
        "stock": int(stock),
        "available": bool(available),
        "description": description or "",
        "created_at": now,
        "updated_at": now,
    }


def _oid(product_id) -> ObjectId:
    oid = repository.parse_id(product_id)
    if oid is None:
        raise ProductNotFound(product_id)
    return oid


def product_create(
    *,
    name: str,
    category: str,
    price_cents: int,
    stock: int,
    available: bool = True,
    description: str = "",
    user_id,
) -> dict:
    doc = repository.insert_one(
        _product_doc(
            name=name,
            category=category,
            price_cents=price_cents,
            stock=stock,
            available=available,
            description=description,
        )
    )
    _record_created(doc, user_id)
    return doc


def products_create_bulk(*, items: list[dict], user_id) -> list[dict]:
    """Create several products (already validated as a whole); all or nothing."""
    docs = [
        _product_doc(
            name=item["name"],
            category=item["category"],
            price_cents=item["price_cents"],
            stock=item["stock"],
            available=item.get("available", True),
            description=item.get("description", ""),
        )
        for item in items
    ]
    repository.insert_many(docs)
    for doc in docs:
        _record_created(doc, user_id)
    return docs


def _record_created(doc: dict, user_id) -> None:
    event_record(
        event_type="product_created",
        user_id=user_id,
        metadata={"product_id": str(doc["_id"]), "name": doc["name"], "stock": doc["stock"]},
    )


def product_update(*, product_id, user_id, **fields) -> dict:
    """Partial update with already validated fields (any of UPDATABLE_FIELDS)."""
    unknown = set(fields) - set(UPDATABLE_FIELDS)
    if unknown:
        raise TypeError(f"not updatable: {sorted(unknown)}")
    oid = _oid(product_id)
    if not fields:
        doc = repository.find_by_id(oid)
        if doc is None:
            raise ProductNotFound(product_id)
        return doc
    changes = dict(fields)
    if "name" in changes:
        changes["name_lower"] = changes["name"].lower()
    changes["updated_at"] = utcnow()
    with stock_locks([oid]):
        before = repository.find_by_id(oid)
        if before is None:
            raise ProductNotFound(product_id)
        after = repository.update_fields(oid, changes)
    if after is None:  # deleted in between
        raise ProductNotFound(product_id)
    changed = sorted(key for key in fields if before.get(key) != after.get(key))
    event_record(
        event_type="product_updated",
        user_id=user_id,
        metadata={"product_id": str(oid), "fields": changed},
    )
    if before["stock"] != after["stock"]:
        _record_stock_changed(oid, before["stock"], after["stock"], "edit", user_id)
    return after


def product_delete(*, product_id, user_id) -> None:
    oid = _oid(product_id)
    if not repository.delete_one(oid):
        raise ProductNotFound(product_id)
    event_record(event_type="product_deleted", user_id=user_id, metadata={"product_id": str(oid)})


def products_delete_unavailable(*, user_id, batch_size: int = 250) -> int:
    """Delete every product marked unavailable, in batches (small enough that the ids fit in
    an event's metadata); returns how many."""
    deleted = 0
    while ids := repository.unavailable_ids(limit=batch_size):
        count = repository.delete_unavailable(ids)
        deleted += count
        event_record(
            event_type="product_deleted",
            user_id=user_id,
            metadata={
                "reason": "unavailable",
                "deleted": count,
                "product_ids": [str(i) for i in ids],
            },
        )
    return deleted


def product_restock(*, product_id, delta: int, user_id) -> dict:
    """Add delta (negative: a correction) to the stock; 0 <= result <= MAX_STOCK or
    StockConflict."""
    oid = _oid(product_id)
    with stock_locks([oid]):
        after = repository.stock_add(oid, delta, now=utcnow(), maximum_after=MAX_STOCK)
        if after is None:
            current = repository.find_by_id(oid)
    if after is None:
        if current is None:
            raise ProductNotFound(product_id)
        if delta < 0:
            detail = f"Stock would go below 0: {current['stock']} available, delta {delta}."
        else:
            detail = f"Stock would exceed {MAX_STOCK}: {current['stock']} now, delta {delta}."
        raise StockConflict(oid, available=current["stock"], detail=detail)
    _record_stock_changed(oid, after["stock"] - delta, after["stock"], "restock", user_id)
    return after


def _record_stock_changed(oid, before: int, after: int, reason: str, user_id, **extra) -> None:
    event_record(
        event_type="stock_changed",
        user_id=user_id,
        metadata={
            "product_id": str(oid),
            "delta": after - before,
            "stock": after,
            "reason": reason,
            **extra,
        },
    )


def stock_take(*, quantities: dict[ObjectId, int]) -> dict[ObjectId, dict]:
    """Decrease each product's stock by its quantity, all or none (the purchase).

    Returns the products after the decrement (their current price, name and category).
    Raises ProductNotOrderable (missing / not for sale), StockConflict (too little stock) or
    StockLockBusy; then every decrement already made has been given back.
    """
    taken: dict[ObjectId, dict] = {}
    now = utcnow()
    with stock_locks(quantities):
        try:
            for oid, quantity in quantities.items():
                doc = repository.stock_add(oid, -quantity, now=now, require_available=True)
                if doc is None:
                    raise _why_not_taken(oid, quantity)
                taken[oid] = doc
        except BaseException:
            _give_back({oid: quantities[oid] for oid in taken})
            raise
    return taken


def _why_not_taken(oid: ObjectId, quantity: int) -> Exception:
    current = repository.find_by_id(oid)
    if current is None:
        return ProductNotOrderable(oid, "missing")
    if not current.get("available", True):
        return ProductNotOrderable(oid, "unavailable")
    return StockConflict(
        oid,
        available=current["stock"],
        detail=f"Insufficient stock for product {oid}: {current['stock']} available, "
        f"{quantity} requested.",
    )


def stock_give_back(*, quantities: dict[ObjectId, int]) -> None:
    """Undo a stock_take (e.g. the order could not be stored)."""
    with stock_locks(quantities):
        _give_back(quantities)


def _give_back(quantities: dict[ObjectId, int]) -> None:
    now = utcnow()
    for oid, quantity in quantities.items():
        try:
            if repository.stock_add(oid, quantity, now=now) is None:
                logger.error("stock give-back: product %s vanished (%d units)", oid, quantity)
        except Exception:
            # Keep going: the other products must still get their units back.
            logger.exception("stock give-back failed: product %s, %d units", oid, quantity)


def stock_changes_record(
    *, before_after: dict[ObjectId, tuple[int, int]], reason: str, user_id, **extra
) -> None:
    """Record stock_changed events for a purchase (called by orders once the order is stored)."""
    for oid, (before, after) in before_after.items():
        _record_stock_changed(oid, before, after, reason, user_id, **extra)
