"""The reference peer of bench/overhead.py: FastAPI + pymongo + redis-py doing the store work of
shopsite's cheap endpoints, with nothing else around it. Not part of the product.

Same documents (the bench database's `products`, `orders`, purchase journal and the sales
summaries' dirty markers), same Redis keys and scripts (the SessionManager's bearer-token check
and touch, the per-product stock locks and fencing tokens, the bounded outbox append), the same
store calls per purchase as orders/purchase.py. Run: `uvicorn bench.peer.app:app --workers 3`
with the bench environment. If the purchase's store work changes, change it here too
(tests/test_bench_peer.py compares).
"""

import contextlib
import hmac
import json
import os
import threading
import uuid

import anyio.to_thread
import pymongo
import pymongo.errors
import redis
import redis.exceptions
from bson import ObjectId
from fastapi import FastAPI, Header, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pymongo import ReturnDocument

# The project's key layouts and Lua scripts (plain strings: no Django is set up here).
from catalog.locks import FENCE_KEY, FENCE_SCRIPT, POLL_SECONDS
from catalog.locks import KEY_PREFIX as LOCK_PREFIX
from eventlog.outbox_repository import _BOUNDED_XADD
from orders.figures import hour_summary, summarize_customer
from orders.summary_codec import pack
from orders.summary_repository import DIRTY
from sessions_app.manager import _TOUCH, _TOUCH_BY_TOKEN, SESSION_PREFIX, TOKEN_PREFIX, token_hash
from shopsite.timeutil import iso
from shopsite.timeutil import utcnow as now

TIMEOUT = float(os.environ.get("BACKEND_TIMEOUT_SECONDS", "2"))
SESSION_TTL = int(os.environ.get("SESSION_TTL_SECONDS", "1800"))
STREAM = os.environ.get("EVENT_OUTBOX_STREAM", "eventlog:outbox")
LOCK_TIMEOUT = float(os.environ.get("STOCK_LOCK_TIMEOUT_SECONDS", "5"))
LOCK_WAIT = float(os.environ.get("STOCK_LOCK_WAIT_SECONDS", "10"))
LOCK_POLL = POLL_SECONDS
EVENT_NAMESPACE = uuid.UUID("6f1d3c52-7d0e-4c41-9a1e-3f4f2b8f0a11")  # orders/purchase.py
OUTBOX_MAX = int(os.environ.get("EVENT_OUTBOX_MAX_PENDING", "1000000"))

# Requests served at once per process: FastAPI runs these sync endpoints in anyio's thread pool
# (40 threads by default); bench/overhead.py sets it to shopsite's gunicorn threads per worker,
# so at 16 clients both apps serve the same number of requests at once.
THREADS = int(os.environ.get("PEER_THREADS", "40"))


@contextlib.asynccontextmanager
async def lifespan(app):
    anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
    yield


app = FastAPI(
    title="shopsite bench peer", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
)
_lock = threading.Lock()
_clients: dict = {}


def clients():
    """(mongo db, redis client, scripts), made once per worker process."""
    if not _clients:
        with _lock:
            if not _clients:
                mongo = pymongo.MongoClient(
                    os.environ.get(
                        "MONGODB_URI", "mongodb://127.0.0.1:27017/?directConnection=true"
                    ),
                    tz_aware=True,
                    serverSelectionTimeoutMS=int(TIMEOUT * 1000),
                    connectTimeoutMS=int(TIMEOUT * 1000),
                )
                r = redis.Redis.from_url(
                    os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
                    decode_responses=True,
                    socket_connect_timeout=TIMEOUT,
                    socket_timeout=TIMEOUT,
                )
                _clients.update(
                    db=mongo[os.environ.get("MONGODB_DB", "shop")],
                    redis=r,
                    touch_by_token=r.register_script(_TOUCH_BY_TOKEN),
                    touch=r.register_script(_TOUCH),
                    # EVALSHA, as shopsite's lua_script
                    fence=r.register_script(FENCE_SCRIPT),
                    xadd=r.register_script(_BOUNDED_XADD),
                )
    return _clients


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def as_session(result) -> dict:
    fields, ttl = result
    return dict(zip(fields[::2], fields[1::2], strict=True)) | {"expires_in": int(ttl)}


def staff(authorization: str | None) -> dict:
    """The bearer token's session (touched: sliding expiry), for a staff or admin user."""
    if not authorization or authorization[:7].lower() != "bearer ":
        raise HTTPException(401, "Authentication credentials were not provided.")
    token = authorization[7:].strip()
    digest = token_hash(token)
    c = clients()
    result = c["touch_by_token"](
        keys=[TOKEN_PREFIX + digest], args=[digest, iso(now()), SESSION_TTL, SESSION_PREFIX]
    )
    session = as_session(result) if result else None
    if session is None or not hmac.compare_digest(session["session_token"], token):
        raise HTTPException(401, "Invalid or expired session token.")
    if session.get("is_staff") != "1" and session.get("is_admin") != "1":
        raise HTTPException(403, "Staff access required.")
    return session


@app.exception_handler(pymongo.errors.ConnectionFailure)
def _mongo_down(request: Request, exc: Exception):
    return JSONResponse({"detail": "mongodb unavailable"}, status_code=503)


@app.exception_handler(redis.exceptions.ConnectionError)
def _redis_down(request: Request, exc: Exception):
    return JSONResponse({"detail": "redis unavailable"}, status_code=503)


def product_out(doc: dict) -> dict:
    return {
        "id": str(doc["_id"]),
        "name": doc["name"],
        "category": doc["category"],
        "price": money(doc["price_cents"]),
        "stock": doc["stock"],
        "available": doc["available"],
        "description": doc.get("description", ""),
        "created_at": iso(doc["created_at"]),
        "updated_at": iso(doc["updated_at"]),
    }


@app.get("/products/{product_id}/")
def product_get(product_id: str, authorization: str | None = Header(None)):
    staff(authorization)
    doc = ObjectId.is_valid(product_id) and clients()["db"].products.find_one(
        {"_id": ObjectId(product_id)}
    )
    if not doc:
        raise HTTPException(404, "Product not found.")
    return product_out(doc)


@app.put("/session/{user_id}/")
def session_touch(user_id: str, response: Response, authorization: str | None = Header(None)):
    actor = staff(authorization)
    if actor["user_id"] != user_id and actor.get("is_admin") != "1":
        raise HTTPException(403, "You may only manage your own session.")
    result = clients()["touch"](
        keys=[SESSION_PREFIX + user_id], args=[iso(now()), SESSION_TTL, TOKEN_PREFIX]
    )
    if not result:
        raise HTTPException(404, "No active session for this user.")
    session = as_session(result)
    response.headers["Cache-Control"] = "no-store"
    return {k: session[k] for k in ("user_id", "session_token", "login_time", "last_active")} | {
        "expires_in": session["expires_in"]
    }


class Item(BaseModel):
    model_config = ConfigDict(strict=True)
    product_id: str = Field(pattern=r"^[0-9a-fA-F]{24}$")
    quantity: int = Field(ge=1)


class OrderIn(BaseModel):
    model_config = ConfigDict(strict=True)
    customer: str = Field(min_length=1, max_length=200)
    items: list[Item] = Field(min_length=1, max_length=100)


def record(c, event_type: str, user_id: str, metadata: dict, event_id=None, stamp=None) -> None:
    event = {
        "event_id": str(event_id or uuid.uuid4()),
        "event_type": event_type,
        "user_id": user_id,
        "timestamp": iso(stamp or now()),
        "metadata": json.dumps(metadata, default=str, sort_keys=True),
    }
    c["xadd"](keys=[STREAM], args=[json.dumps(event), OUTBOX_MAX])


@contextlib.contextmanager
def stock_locks(c, product_ids):
    """The products' locks in sorted id order, and a fencing token (as catalog/locks.py)."""
    held = []
    try:
        for oid in sorted(str(p) for p in product_ids):
            lock = c["redis"].lock(
                LOCK_PREFIX + oid, timeout=LOCK_TIMEOUT, blocking_timeout=LOCK_WAIT, sleep=LOCK_POLL
            )
            if not lock.acquire():
                raise HTTPException(503, "Stock lock busy.")
            held.append(lock)
        yield int(c["fence"](keys=[FENCE_KEY]))
    finally:
        for lock in reversed(held):
            lock.release()


def fenced(query: dict, fence: int) -> dict:
    return query | {"stock_fence": {"$not": {"$gt": fence}}}


@app.post("/orders/", status_code=201)
def order_place(order: OrderIn, authorization: str | None = Header(None)):
    """The purchase as orders/purchase.py makes it: intent, marked and fenced stock takes,
    outcome, order, events, listing the intent as finished (settled later by the recovery)."""
    actor = staff(authorization)
    c = clients()
    db = c["db"]
    needed: dict[ObjectId, int] = {}
    for item in order.items:
        oid = ObjectId(item.product_id)
        needed[oid] = needed.get(oid, 0) + item.quantity
    found = {oid: db.products.find_one({"_id": oid}) for oid in needed}
    for oid, doc in found.items():
        if doc is None or not doc.get("available", True):
            raise HTTPException(400, f"Product {oid} cannot be ordered.")
        if doc["stock"] < needed[oid]:
            return JSONResponse(
                {
                    "detail": "Insufficient stock.",
                    "product_id": str(oid),
                    "available": doc["stock"],
                },
                status_code=409,
            )
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
    with stock_locks(c, needed) as fence:
        if db.order_intent_outcomes.find_one({"_id": intent["_id"]}) is not None:
            raise HTTPException(409, "Purchase aborted.")
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
                db.order_intents.delete_one({"_id": intent["_id"]})
                raise HTTPException(409, "Insufficient stock.")
            taken[oid] = doc
    items = []
    for item in order.items:
        product = taken[ObjectId(item.product_id)]
        items.append(
            {
                "product_id": item.product_id,
                "name": product["name"],
                "category": product["category"],
                "unit_price_cents": product["price_cents"],
                "quantity": item.quantity,
                "line_total_cents": product["price_cents"] * item.quantity,
            }
        )
    doc = {
        "_id": intent["order_ids"][0],
        "customer": order.customer,
        "created_at": stamp,
        "day": stamp.strftime("%Y-%m-%d"),
        "hour": stamp.strftime("%Y-%m-%dT%H"),
        "minute": stamp.strftime("%Y-%m-%dT%H:%M"),
        "items": items,
        "total_cents": sum(i["line_total_cents"] for i in items),
        "quantity": sum(i["quantity"] for i in items),
        "created_by": actor["user_id"],
    }
    outcome = {"_id": intent["_id"], "outcome": "commit", "created_at": stamp, "orders": [doc]}
    db.order_intent_outcomes.insert_one(outcome)
    # The sales summaries' markers around the insert, as orders/repository.insert_many: before,
    # naming the order with its figures; after, confirming each.
    markers = db[DIRTY.COLLECTION]
    hour = {"kind": "hour", "hour": doc["hour"], "day": doc["day"]}
    customer = {"kind": "customer", "customer": doc["customer"]}
    before = [
        {"_id": ObjectId(), **hour, "orders": [doc["_id"]], "figures": pack(hour_summary([doc]))},
        {"_id": ObjectId(), **customer, "orders": [doc["_id"]],
         "figures": summarize_customer([doc])},
    ]  # fmt: skip
    markers.insert_many(before, ordered=False)
    db.orders.insert_one(doc)
    markers.insert_many(
        [{"_id": ObjectId(), **key, "confirms": marker["_id"]}
         for key, marker in zip((hour, customer), before, strict=True)],
        ordered=False,
    )  # fmt: skip
    record(
        c,
        "order_created",
        actor["user_id"],
        {
            "order_id": str(doc["_id"]),
            "customer": doc["customer"],
            "total": money(doc["total_cents"]),
            "items": [[i["product_id"], i["quantity"]] for i in items],
        },
        event_id=uuid.uuid5(EVENT_NAMESPACE, str(doc["_id"])),
        stamp=stamp,
    )
    for oid, quantity in needed.items():
        after = taken[oid]["stock"]
        record(
            c,
            "stock_changed",
            actor["user_id"],
            {
                "product_id": str(oid),
                "delta": -quantity,
                "stock": after,
                "reason": "order",
                "order_ids": [str(doc["_id"])],
            },
        )
    # Finished: the worker's recovery clears the marks and the intent in batches.
    c["redis"].sadd("order-intents:finished", str(intent["_id"]))
    return {
        "id": str(doc["_id"]),
        "customer": doc["customer"],
        "items": [
            {
                "product_id": i["product_id"],
                "name": i["name"],
                "unit_price": money(i["unit_price_cents"]),
                "quantity": i["quantity"],
                "line_total": money(i["line_total_cents"]),
            }
            for i in items
        ],
        "total": money(doc["total_cents"]),
        "created_at": iso(stamp),
    }
