"""Placing orders (HackSoft style: keyword-only functions).

The purchase itself, its journal and the recovery of interrupted purchases are in
orders/purchase.py; these are the entry points the API, the pages and other apps call.

Idempotency-Key (orders_place_once): the key is claimed atomically in Redis before the purchase,
carried in the intent, and replaced by the response's order ids once the purchase is finished
(by the request, or by the recovery after a crash), for IDEMPOTENCY_TTL_SECONDS.
"""

import hashlib
import time
import uuid
from datetime import datetime

from bson import ObjectId

from shopsite.timeutil import iso, utcnow

from . import lifecycle, purchase, purchase_recovery, repository, sales
from . import purchase_repository as journal
from .exceptions import IdempotencyKeyInUse, IdempotencyKeyReused


def order_place(
    *, customer: str, items: list[dict], created_at: datetime | None = None, user_id
) -> dict:
    """items: [{"product_id": "24-hex", "quantity": int >= 1}] in the customer's order."""
    order = {"customer": customer, "items": items, "created_at": created_at}
    return purchase.place([order], user_id=user_id, bulk=False)[0]


def orders_place_bulk(*, orders: list[dict], user_id) -> list[dict]:
    """Several orders (each like order_place's arguments), all or nothing."""
    return purchase.place(orders, user_id=user_id, bulk=True)


def orders_place_once(
    *, orders: list[dict], bulk: bool, user_id, key: str, fingerprint: str
) -> tuple[list[dict], bool]:
    """Place the orders unless this user's Idempotency-Key already did: then return those
    orders again. Returns (orders, replayed). IdempotencyKeyInUse while another request with the
    key is in progress; IdempotencyKeyReused if the key came with another body (fingerprint).
    The key is claimed in the same Redis call as the stock locks (orders/purchase.py)."""
    token = uuid.uuid4().hex
    idempotency = {
        "key": idempotency_record_key(user_id=user_id, key=key),
        "token": token,
        "fingerprint": fingerprint,
        "pending": {
            "state": "pending",
            "fingerprint": fingerprint,
            "token": token,
            "at": iso(utcnow()),
        },
    }
    try:
        return purchase.place(orders, user_id=user_id, bulk=bulk, idempotency=idempotency), False
    except purchase.KeyHeld as exc:
        held = exc.record
    if held.get("fingerprint") != fingerprint:
        raise IdempotencyKeyReused()
    if held.get("state") == "done":
        return _replay(held), True
    raise IdempotencyKeyInUse()


def idempotency_record_key(*, user_id, key: str) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"idempotency:{'' if user_id is None else user_id}:{digest}"


# How every order left the purchase (api-contract.md, Orders: status).
_AS_PLACED = {"status": "placed", "fulfilled_at": None, "cancelled_at": None, "cancel_reason": None}


def _replay(record: dict) -> list[dict]:
    """The orders as the first response showed them: a replay answers that response again
    (api-contract.md), not the orders' status since (fulfilled, cancelled)."""
    docs = [repository.find_by_id(ObjectId(order_id)) for order_id in record["order_ids"]]
    return [{**doc, **_AS_PLACED} for doc in docs if doc is not None]


def order_intents_recover(*, older_than_seconds: float | None = None) -> dict:
    """Finish (committed) or undo (all others) every purchase intent older than the given age
    (default ORDER_INTENT_RECOVER_AFTER_SECONDS). Safe to run anywhere, any number of times,
    also while purchases run. Returns counts."""
    return purchase_recovery.recover(older_than_seconds=older_than_seconds)


def wait_for_idempotent(*, user_id, key: str, timeout: float = 5.0) -> list[dict] | None:
    """The orders a key placed once its first request finished (the dashboard form resubmitted
    while the first submission was still running); None if it did not finish in time."""
    record_key = idempotency_record_key(user_id=user_id, key=key)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = journal.idempotency_get(record_key)
        if record is None:
            return None
        if record.get("state") == "done":
            return _replay(record)
        time.sleep(0.1)
    return None


def order_fulfil(*, order_id, user_id) -> dict:
    """A placed order handed over: fulfilled (again: unchanged; cancelled: OrderStatusConflict)."""
    return lifecycle.change(order_id=order_id, status="fulfilled", user_id=user_id)


def order_cancel(*, order_id, user_id, reason: str | None = None) -> dict:
    """A placed order cancelled: its stock back exactly once, no longer a sale (again:
    unchanged; fulfilled: OrderStatusConflict)."""
    return lifecycle.change(order_id=order_id, status="cancelled", user_id=user_id, reason=reason)


def order_status_changes_recover(*, older_than_seconds: float | None = None) -> int:
    """Finish the fulfils and cancels a crash left half done (the worker runs it)."""
    return lifecycle.recover(older_than_seconds=older_than_seconds)


# The sales module's collections: derived from `orders`, so backups leave them out.
SUMMARY_COLLECTION_PREFIX = "sales_"


def sales_summaries_invalidate() -> None:
    """The orders were replaced behind the write path's back (a restore): the sales summaries
    are rebuilt from them (by the worker or `refresh_summaries`; reads answer 503 meanwhile)."""
    sales.invalidate()


def sales_fold() -> int:
    """Fold the sales ledger into the summaries (the worker, every SALES_FOLD_EVERY_SECONDS),
    rebuilding them first if their layout or time zone changed."""
    return sales.refresh()


def sales_summaries_refresh() -> int:
    """Rebuild the summaries if needed, then fold the ledger (start-up and after a restore)."""
    return sales.refresh()
