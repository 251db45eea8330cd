"""Business rules for products (HackSoft style: keyword-only functions, `<entity>_<action>`).

Every write of a product document holds the product's stock lock (see locks.py): on FerretDB
an update rewrites the whole document, so even a rename could otherwise undo a concurrent
stock change. Every change records an event.
"""

import contextlib
from collections.abc import Callable

from bson import ObjectId

from eventlog.services import event_record
from shopsite.faults import fault_point
from shopsite.timeutil import utcnow

from . import repository
from .exceptions import ProductNotFound, ProductNotOrderable, StockConflict, StockLockLost

# Claim, ClaimHeld, StockLocks: for the purchase (orders/purchase.py), which holds its products'
# locks from before its intent to the end of its bookkeeping.
from .locks import Claim as Claim
from .locks import ClaimHeld as ClaimHeld
from .locks import StockLocks as StockLocks
from .locks import stock_locks

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


def product_oid(product_id) -> ObjectId:
    """The product id as an ObjectId; ProductNotFound if it cannot be one."""
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
    oid = product_oid(product_id)
    if not fields:
        doc = repository.find_by_id(oid)
        if doc is None:
            raise ProductNotFound(product_id)
        return doc
    changes = dict(fields)
    if "name" in changes:
        changes["name_lower"] = changes["name"].lower()
    changes["updated_at"] = utcnow()
    with stock_locks([oid]) as fence:
        before = repository.find_by_id(oid)
        if before is None:
            raise ProductNotFound(product_id)
        after = repository.update_fields(oid, changes, fence=fence)
        if after is None and repository.find_by_id(oid) is not None:
            raise StockLockLost(oid)
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
    oid = product_oid(product_id)
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
    oid = product_oid(product_id)
    with stock_locks([oid]) as fence:
        after = repository.stock_add(oid, delta, now=utcnow(), fence=fence, maximum_after=MAX_STOCK)
        if after is None:
            current = repository.find_by_id(oid)
    if after is None:
        if current is None:
            raise ProductNotFound(product_id)
        if current.get(repository.FENCE, 0) > fence:
            raise StockLockLost(oid)
        if delta < 0:
            detail = f"Stock would go below 0: {current['stock']} available, delta {delta}."
        else:
            detail = f"Stock would exceed {MAX_STOCK}: {current['stock']} now, delta {delta}."
        raise StockConflict(oid, available=current["stock"], detail=detail)
    _record_stock_changed(oid, after["stock"] - delta, after["stock"], "restock", user_id)
    return after


def _record_stock_changed(
    oid, before: int, after: int, reason: str, user_id, batch=None, **extra
) -> None:
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
        batch=batch,
    )


def stock_mark(intent_id: str, quantity: int) -> str:
    return f"{intent_id}:{quantity}"


# A product carrying more marks than this (the recovery that settles them is not running) has
# the settled ones removed by the purchase itself, under the lock it holds: documents stay small.
MARKS_SETTLED_INLINE_AT = 100


def stock_take(
    *,
    quantities: dict[ObjectId, int],
    intent_id: str,
    fence: int | None = None,
    settled: Callable[[list[str]], list[str]] | None = None,
) -> dict[ObjectId, dict]:
    """Decrease each product's stock by its quantity for a purchase intent, all or none.

    Each take is recorded on the product (its mark) in the same write, so it happens at most
    once per intent and can be undone (stock_release) or settled (stock_unmark) exactly once,
    also by the recovery after a crash. Returns the products after the decrement (their
    current price, name and category). `fence`: the caller holds the products' locks
    (StockLocks) with this token; else they are taken here. `settled(marks)` names those of
    the marks whose purchases are finished (see MARKS_SETTLED_INLINE_AT). Raises
    ProductNotOrderable (missing / not for sale), StockConflict (too little stock),
    StockLockBusy or StockLockLost; then every take already made has been given back.
    """
    with contextlib.nullcontext(fence) if fence is not None else stock_locks(quantities) as token:
        return _take(quantities, intent_id, token, settled)


def _take(quantities, intent_id: str, fence: int, settled) -> dict[ObjectId, dict]:
    taken: dict[ObjectId, dict] = {}
    now = utcnow()
    try:
        for oid, quantity in quantities.items():
            doc = repository.stock_take_marked(
                oid, quantity, mark=stock_mark(intent_id, quantity), fence=fence, now=now
            )
            if doc is None:
                raise _why_not_taken(oid, quantity, fence)
            taken[oid] = doc
            fault_point(f"after_stock_{len(taken)}")
            marks = doc.get(repository.MARKS, [])
            if settled is not None and len(marks) > MARKS_SETTLED_INLINE_AT:
                done = settled(marks)
                if done:
                    repository.stock_unmark(oid, marks=done, fence=fence, now=now)
    except BaseException:
        _release({oid: quantities[oid] for oid in taken}, intent_id, fence)
        raise
    return taken


def _why_not_taken(oid: ObjectId, quantity: int, fence: int) -> Exception:
    current = repository.find_by_id(oid)
    if current is None:
        return ProductNotOrderable(oid, "missing")
    if current.get(repository.FENCE, 0) > fence:
        return StockLockLost(oid)
    if not current.get("available", True):
        return ProductNotOrderable(oid, "unavailable")
    return StockConflict(
        oid,
        available=current["stock"],
        detail=f"Insufficient stock for product {oid}: {current['stock']} available, "
        f"{quantity} requested.",
    )


def stock_release(*, quantities: dict[ObjectId, int], intent_id: str) -> None:
    """Give back what an intent took, once (products it never took from are left as they are,
    but their fence is raised so a stalled holder of the intent cannot take from them later)."""
    with stock_locks(quantities) as fence:
        _release(quantities, intent_id, fence, raise_fence=True)


def _release(
    quantities: dict[ObjectId, int], intent_id: str, fence: int, *, raise_fence: bool = False
) -> None:
    now = utcnow()
    lost = None
    for oid, quantity in quantities.items():
        mark = stock_mark(intent_id, quantity)
        if repository.stock_return_marked(oid, quantity, mark=mark, fence=fence, now=now):
            continue
        current = repository.find_by_id(oid)
        if current is not None and mark in current.get(repository.MARKS, ()):
            lost = oid  # fenced off: a later holder wrote; undo again under a new lock
        elif raise_fence:
            repository.fence_raise(oid, fence=fence, now=now)
    if lost is not None:
        raise StockLockLost(lost)


def stock_unmark(*, marks: dict[ObjectId, list[str]]) -> None:
    """Purchases are placed: forget their marks (the stock stays taken). Idempotent; one
    locked write per product."""
    for oid, product_marks in marks.items():
        with stock_locks([oid]) as fence:
            repository.stock_unmark(oid, marks=product_marks, fence=fence, now=utcnow())


def stock_changes_record(
    *, before_after: dict[ObjectId, tuple[int, int]], reason: str, user_id, batch=None, **extra
) -> None:
    """Record stock_changed events for a purchase (called by orders once the order is stored);
    with `batch`, appended when the caller sends it."""
    for oid, (before, after) in before_after.items():
        _record_stock_changed(oid, before, after, reason, user_id, batch=batch, **extra)


def stock_give_back(
    *, quantities: dict[ObjectId, int], change_id: str, due: Callable[[], bool]
) -> dict[ObjectId, tuple]:
    """Put a cancelled order's quantities back, exactly once per product for `change_id` (marked
    like a take; stock_unmark forgets the marks once the change is done), if `due()` still says
    so once the locks are held (after the marks are forgotten it must say no). A product deleted
    since gets nothing. Returns {product: (stock before, stock after)} of those changed now."""
    changed = {}
    with stock_locks(quantities) as fence:
        if not due():
            return changed
        now = utcnow()
        for oid, quantity in quantities.items():
            mark = stock_mark(change_id, quantity)
            doc = repository.stock_give_back_marked(oid, quantity, mark=mark, fence=fence, now=now)
            if doc is not None:
                changed[oid] = (doc["stock"] - quantity, doc["stock"])
                continue
            current = repository.find_by_id(oid)
            if current is not None and mark not in current.get(repository.MARKS, ()):
                raise StockLockLost(oid)  # fenced off: a later holder wrote; try again
    return changed
