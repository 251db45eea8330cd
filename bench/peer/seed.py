"""The seed-style peer of bench/overhead.py (`--peer seed`, the default): FastAPI + pymongo +
redis-py doing what the original shop did, with no journal. Not part of the product.

POST /orders/: the products' Redis locks (redis-py's Lock, sorted), a guarded `$inc` per product
(given back if a later one fails), the order inserted, its events appended to the outbox one by
one (the same bounded XADD and the same events as shopsite: order_created and one stock_changed
per product, so the outbox worker has the same work in both apps' phases). The reads and the
bearer-token check are bench/peer/common.py's. Run: `uvicorn bench.peer.seed:app --workers 3`
with the bench environment.
"""

import contextlib

from fastapi import FastAPI, Header, HTTPException
from pymongo import ReturnDocument

from bench.peer import common
from bench.peer.common import (
    EXCEPTION_HANDLERS,
    LOCK_PREFIX,
    OrderIn,
    clients,
    conflict,
    lifespan,
    needed_of,
    now,
    order_doc,
    order_events,
    order_out,
    staff,
)

app = FastAPI(
    title="shopsite seed-style peer",
    docs_url=None,
    redoc_url=None,
    openapi_url=None,
    lifespan=lifespan,
    exception_handlers=EXCEPTION_HANDLERS,
)
app.include_router(common.router)


@contextlib.contextmanager
def locked(c, product_ids):
    """The products' locks in sorted id order (no fencing token: the seed had none)."""
    held = []
    try:
        for oid in sorted(str(p) for p in product_ids):
            lock = c["redis"].lock(
                LOCK_PREFIX + oid,
                timeout=common.LOCK_TIMEOUT,
                blocking_timeout=common.LOCK_WAIT,
                sleep=common.POLL_SECONDS,
            )
            if not lock.acquire():
                raise HTTPException(503, "Stock lock busy.")
            held.append(lock)
        yield
    finally:
        for lock in reversed(held):
            lock.release()


@app.post("/orders/", status_code=201)
def order_place(order: OrderIn, authorization: str | None = Header(None)):
    actor = staff(authorization)
    c = clients()
    db = c["db"]
    needed = needed_of(order)
    stamp = now()
    taken = {}
    with locked(c, needed):
        for oid, quantity in needed.items():
            doc = db.products.find_one_and_update(
                {"_id": oid, "stock": {"$gte": quantity}, "available": True},
                {"$inc": {"stock": -quantity}, "$set": {"updated_at": stamp}},
                return_document=ReturnDocument.AFTER,
            )
            if doc is None:
                for given in taken:
                    db.products.update_one({"_id": given}, {"$inc": {"stock": needed[given]}})
                current = db.products.find_one({"_id": oid}) or {}
                return conflict(oid, current.get("stock"))
            taken[oid] = doc
    doc = order_doc(order, taken, stamp=stamp, user_id=actor["user_id"])
    db.orders.insert_one(doc)
    for line in order_events(doc, needed, taken, actor["user_id"]):
        c["xadd"](keys=[common.STREAM], args=[line, common.OUTBOX_MAX])
    return order_out(doc)
