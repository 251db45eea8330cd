"""What both peers of bench/overhead.py share (bench/peer/app.py, the faithful copy of the
purchase; bench/peer/seed.py, the seed-style one): clients, the SessionManager's bearer-token
check and touch, GET /products/{id}/, GET /products/?category=, PUT /session/{id}/, the order's
document and answer, the bounded outbox append. Not part of the product; no Django is set up
here (the project's key layouts, Lua scripts and order document are plain imports)."""

import contextlib
import hmac
import json
import os
import threading
import uuid
from urllib.parse import urlencode

import anyio.to_thread
import pymongo
import pymongo.errors
import redis
import redis.exceptions
from bson import ObjectId
from fastapi import APIRouter, Header, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from catalog.locks import ACQUIRE_SCRIPT, FENCE_KEY, POLL_SECONDS, RELEASE_SCRIPT
from catalog.locks import KEY_PREFIX as LOCK_PREFIX
from eventlog.outbox_repository import _BOUNDED_XADD
from orders.documents import order_document
from sessions_app.manager import _TOUCH, _TOUCH_BY_TOKEN, SESSION_PREFIX, TOKEN_PREFIX, token_hash
from shopsite.timeutil import iso
from shopsite.timeutil import utcnow as now

__all__ = ["ACQUIRE_SCRIPT", "FENCE_KEY", "LOCK_PREFIX", "POLL_SECONDS", "RELEASE_SCRIPT"]

TIMEOUT = float(os.environ.get("BACKEND_TIMEOUT_SECONDS", "2"))
SESSION_TTL = int(os.environ.get("SESSION_TTL_SECONDS", "1800"))
STREAM = os.environ.get("EVENT_OUTBOX_STREAM", "eventlog:outbox")
LOCK_TIMEOUT = float(os.environ.get("STOCK_LOCK_TIMEOUT_SECONDS", "5"))
LOCK_WAIT = float(os.environ.get("STOCK_LOCK_WAIT_SECONDS", "10"))
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
                    acquire=r.register_script(ACQUIRE_SCRIPT),
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


def mongo_down(request: Request, exc: Exception):
    return JSONResponse({"detail": "mongodb unavailable"}, status_code=503)


def redis_down(request: Request, exc: Exception):
    return JSONResponse({"detail": "redis unavailable"}, status_code=503)


EXCEPTION_HANDLERS = {
    pymongo.errors.ConnectionFailure: mongo_down,
    redis.exceptions.ConnectionError: redis_down,
}


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


router = APIRouter()


@router.get("/products/{product_id}/")
def product_get(product_id: str, authorization: str | None = Header(None)):
    staff(authorization)
    doc = ObjectId.is_valid(product_id) and clients()["db"].products.find_one(
        {"_id": ObjectId(product_id)}
    )
    if not doc:
        raise HTTPException(404, "Product not found.")
    return product_out(doc)


@router.get("/products/")
def products_list(
    request: Request,
    category: str | None = Query(None, max_length=100),
    page: int = Query(1, ge=1),
    page_size: int = Query(50, ge=1, le=500),
    authorization: str | None = Header(None),
):
    """A page of products, newest first, with the count (the contract's page shape)."""
    staff(authorization)
    products = clients()["db"].products
    query = {} if category is None else {"category": category}
    count = products.count_documents(query)
    skip = (page - 1) * page_size
    if page > 1 and skip >= count:
        raise HTTPException(404, "Invalid page.")
    docs = products.find(query).sort([("created_at", -1), ("_id", 1)]).skip(skip).limit(page_size)
    results = [product_out(doc) for doc in docs]
    base = str(request.url).split("?", 1)[0]
    params = {k: v for k, v in request.query_params.items() if k != "page"}

    def link(number: int) -> str:
        return base + "?" + urlencode({**params, **({"page": number} if number > 1 else {})})

    return {
        "count": count,
        "next": link(page + 1) if skip + len(results) < count else None,
        "previous": link(page - 1) if page > 1 else None,
        "results": results,
    }


@router.put("/session/{user_id}/")
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


def needed_of(order: OrderIn) -> dict[ObjectId, int]:
    needed: dict[ObjectId, int] = {}
    for item in order.items:
        oid = ObjectId(item.product_id)
        needed[oid] = needed.get(oid, 0) + item.quantity
    return needed


def order_doc(order: OrderIn, taken: dict, *, stamp, user_id, order_id=None) -> dict:
    lines = [(taken[ObjectId(item.product_id)], item.quantity) for item in order.items]
    return order_document(
        customer=order.customer,
        lines=lines,
        created_at=stamp,
        created_by=user_id,
        order_id=order_id or ObjectId(),
    )


def event_line(event_type: str, user_id: str, metadata: dict, event_id=None, stamp=None) -> str:
    return json.dumps(
        {
            "event_id": str(event_id or uuid.uuid4()),
            "event_type": event_type,
            "user_id": user_id,
            "timestamp": iso(stamp or now()),
            "metadata": json.dumps(metadata, default=str, sort_keys=True),
        }
    )


def order_events(doc: dict, needed: dict, taken: dict, user_id: str) -> list[str]:
    """order_created and one stock_changed per product, as orders/purchase.py records them."""
    lines = [
        event_line(
            "order_created",
            user_id,
            {
                "order_id": str(doc["_id"]),
                "customer": doc["customer"],
                "total": money(doc["total_cents"]),
                "items": [[i["product_id"], i["quantity"]] for i in doc["items"]],
            },
            event_id=uuid.uuid5(EVENT_NAMESPACE, str(doc["_id"])),
            stamp=doc["created_at"],
        )
    ]
    for oid, quantity in needed.items():
        metadata = {
            "product_id": str(oid),
            "delta": -quantity,
            "stock": taken[oid]["stock"],
            "reason": "order",
            "order_ids": [str(doc["_id"])],
        }
        lines.append(event_line("stock_changed", user_id, metadata))
    return lines


def order_out(doc: dict) -> dict:
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
            for i in doc["items"]
        ],
        "total": money(doc["total_cents"]),
        "created_at": iso(doc["created_at"]),
        "status": doc["status"],
        "fulfilled_at": None,
        "cancelled_at": None,
        "cancel_reason": None,
    }


def conflict(oid: ObjectId, available) -> JSONResponse:
    return JSONResponse(
        {"detail": "Insufficient stock.", "product_id": str(oid), "available": available},
        status_code=409,
    )
