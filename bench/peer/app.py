"""The faithful peer of bench/overhead.py (`--peer faithful`): FastAPI + pymongo + redis-py
doing the store work of shopsite's purchase (orders/purchase.py) and cheap endpoints, with
nothing else around it, so the ratio to it is the framework's share. Not part of the product.

Same documents (the bench database's `products`, `orders`, purchase intents and the sales
ledger's entry deciding the purchase), same Redis keys and scripts (bench/peer/common.py: the
bearer-token check; the locks, fencing token in one script, and the release, events and
finished set in one MULTI, as catalog/locks.py and shopsite.redis_client.Batch). Run:
`uvicorn bench.peer.app:app --workers 3` with the bench environment. If the purchase's store
work changes, change it here too (tests/test_bench_peer.py compares).
"""

import time

from bson import ObjectId
from fastapi import FastAPI, Header, HTTPException
from pymongo import ReturnDocument

from bench.peer import common
from bench.peer.common import (
    EXCEPTION_HANDLERS,
    LOCK_PREFIX,
    THREADS,
    OrderIn,
    _clients,
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

# Re-exported for tests/test_bench_peer.py.
__all__ = ["THREADS", "_clients"]
FINISHED = "order-intents:finished"
LEDGER = "sales_ledger"

app = FastAPI(
    title="shopsite bench peer",
    docs_url=None,
    redoc_url=None,
    openapi_url=None,
    lifespan=lifespan,
    exception_handlers=EXCEPTION_HANDLERS,
)
app.include_router(common.router)


def acquire(c, product_ids, value: str) -> int:
    """Every lock and a fencing token in one script (catalog/locks.py's ACQUIRE_SCRIPT)."""
    keys = [LOCK_PREFIX + oid for oid in sorted(str(p) for p in product_ids)]
    deadline = time.monotonic() + common.LOCK_WAIT
    while True:
        status, token = c["acquire"](
            keys=[*keys, common.FENCE_KEY],
            args=[value, int(common.LOCK_TIMEOUT * 1000), len(keys)],
        )
        if status == 2:
            return int(token)
        if time.monotonic() > deadline:
            raise HTTPException(503, "Stock lock busy.")
        time.sleep(common.POLL_SECONDS)


def release(pipe, product_ids, value: str) -> None:
    keys = [LOCK_PREFIX + oid for oid in sorted(str(p) for p in product_ids)]
    pipe.eval(common.RELEASE_SCRIPT, len(keys), *keys, value)


def fenced(query: dict, fence: int) -> dict:
    return query | {"stock_fence": {"$not": {"$gt": fence}}}


@app.post("/orders/", status_code=201)
def order_place(order: OrderIn, authorization: str | None = Header(None)):
    """The purchase as orders/purchase.py makes it: locks and token, intent, marked and fenced
    stock takes, the ledger's commit entry, the order, then one MULTI (locks released, events,
    the intent listed as finished: settled later by the recovery)."""
    actor = staff(authorization)
    c = clients()
    db = c["db"]
    needed = needed_of(order)
    value = ObjectId().binary.hex()
    fence = acquire(c, needed, value)
    stamp = now()
    intent = {
        "_id": ObjectId(),
        "created_at": stamp,
        "user_id": actor["user_id"],
        "bulk": False,
        "quantities": [{"product_id": str(o), "quantity": q} for o, q in needed.items()],
        "order_ids": [ObjectId()],
    }
    db.order_intents.insert_one(intent)
    marks = {oid: f"{intent['_id']}:{q}" for oid, q in needed.items()}
    taken: dict[ObjectId, dict] = {}
    for oid, quantity in needed.items():
        doc = db.products.find_one_and_update(
            fenced(
                {"_id": oid, "stock": {"$gte": quantity}, "available": True,
                 "stock_marks": {"$ne": marks[oid]}},
                fence,
            ),
            {"$inc": {"stock": -quantity}, "$push": {"stock_marks": marks[oid]},
             "$set": {"updated_at": stamp, "stock_fence": fence}},
            return_document=ReturnDocument.AFTER,
        )  # fmt: skip
        if doc is None:
            for given in taken:
                db.products.update_one(
                    fenced({"_id": given, "stock_marks": marks[given]}, fence),
                    {"$inc": {"stock": needed[given]}, "$pull": {"stock_marks": marks[given]}},
                )
            pipe = c["redis"].pipeline(transaction=True)
            release(pipe, needed, value)
            pipe.execute()
            db.order_intents.delete_one({"_id": intent["_id"]})
            current = db.products.find_one({"_id": oid}) or {}
            return conflict(oid, current.get("stock"))
        taken[oid] = doc
    doc = order_doc(
        order, taken, stamp=stamp, user_id=actor["user_id"], order_id=intent["order_ids"][0]
    )
    db[LEDGER].insert_one(
        {"_id": intent["_id"], "outcome": "commit", "created_at": stamp, "orders": [doc],
         "pass": 0}
    )  # fmt: skip
    db.orders.insert_many([doc], ordered=False)
    pipe = c["redis"].pipeline(transaction=True)
    release(pipe, needed, value)
    for line in order_events(doc, needed, taken, actor["user_id"]):
        pipe.eval(common._BOUNDED_XADD, 1, common.STREAM, line, common.OUTBOX_MAX)
    pipe.sadd(FINISHED, str(intent["_id"]))
    pipe.execute()
    return order_out(doc)
