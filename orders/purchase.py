"""The purchase, made so that a crash cannot corrupt it (no transactions on FerretDB, so a
journal instead):
1. take the products' stock locks and a fencing token (catalog.locks.StockLocks: one Redis
   script, which also claims the Idempotency-Key if there is one);
2. record the intent (orders/purchase_repository.py): the products and quantities it takes and
   the ids its orders will have, before anything changes;
3. take the stock (catalog.services.stock_take: fenced, guarded decrements, each marked with the
   intent so it happens once and can be undone once);
4. decide "commit" by inserting the intent's outcome with the order documents (an insert with
   a unique _id: the first decision wins, also against the recovery);
5. store the orders (repository.insert_many, idempotent by their fixed ids), then in one Redis
   round trip release the locks, record the events, store the Idempotency-Key's answer and
   list the intent as finished; the recovery clears finished intents and their stock marks in
   batches, off the request path.
The token is taken before the intent exists, so a recovery that aborts the intent takes a larger
one, and every write it makes to the products (giving back, or raising their fence) shuts out
this purchase's later takes: no need to look up the outcome under the locks before taking.
The recovery (orders/purchase_recovery.py) takes every intent older than
ORDER_INTENT_RECOVER_AFTER_SECONDS: committed ones are finished (orders stored, events recorded
with fixed ids so the log holds each once), all others are decided "abort" and their marked
stock given back. Every step is idempotent, so each order
ends up placed with its stock taken exactly once, or absent with no stock taken. Pending
purchases live only in the journal: order lists and stats never see them.
"""

import logging
import uuid
from datetime import datetime

from bson import ObjectId
from django.conf import settings

from catalog import selectors as catalog_selectors
from catalog import services as catalog_services
from catalog.exceptions import ProductNotOrderable, StockConflict, StockLockBusy, StockLockLost
from eventlog.services import event_record
from shopsite.faults import fault_point
from shopsite.money import cents_to_str
from shopsite.redis_client import Batch
from shopsite.timeutil import as_utc, truncate_ms, utcnow

from . import purchase_repository as journal
from . import repository, sales
from .documents import order_document
from .exceptions import IdempotencyKeyInUse, OrderRejected, PurchaseAborted

logger = logging.getLogger(__name__)

# order_created events get an id derived from the order's: recorded twice, logged once.
EVENT_NAMESPACE = uuid.UUID("6f1d3c52-7d0e-4c41-9a1e-3f4f2b8f0a11")


class KeyHeld(Exception):
    """The Idempotency-Key is claimed already (nothing was done): `record` is its claim."""

    def __init__(self, record: dict):
        super().__init__("Idempotency-Key held")
        self.record = record


def place(orders: list[dict], *, user_id, bulk: bool, idempotency: dict | None = None):
    """Place the orders, all or none (the steps above); returns their documents.
    idempotency: {key, token, fingerprint, pending (the claim's record)}; KeyHeld if claimed."""
    needed: dict[ObjectId, int] = {}
    for order in orders:
        for item in order["items"]:
            oid = ObjectId(item["product_id"])
            needed[oid] = needed.get(oid, 0) + item["quantity"]
    locks = catalog_services.StockLocks(needed)
    claim = None
    if idempotency:
        pending = journal.idempotency_encode(idempotency["pending"])
        ttl = settings.IDEMPOTENCY_PENDING_SECONDS
        claim = catalog_services.Claim(idempotency["key"], pending, ttl)
    try:
        fence = locks.acquire(claim=claim)
    except catalog_services.ClaimHeld as held:
        raise KeyHeld(journal.idempotency_decode(held.value))
    except BaseException as exc:
        _abandon(None, idempotency, exc)
        raise
    intent = None
    committed = False
    try:
        fault_point("after_lock")
        now = utcnow()
        intent = _intent(orders, needed, now=now, user_id=user_id, bulk=bulk, idem=idempotency)
        if idempotency:
            if not journal.intent_insert_unless_key_held(intent):
                intent = None
                raise IdempotencyKeyInUse()  # a crashed attempt's intent awaits the recovery
        else:
            journal.intent_insert(intent)
        fault_point("after_intent")
        try:
            taken = catalog_services.stock_take(
                quantities=needed, intent_id=str(intent["_id"]), fence=fence, settled=_settled_marks
            )
        except (ProductNotOrderable, StockConflict) as exc:
            _explain_refusal(orders, needed, exc, bulk=bulk)
            raise
        docs = [
            _order_doc(order, taken, now=now, user_id=user_id, order_id=order_id)
            for order, order_id in zip(orders, intent["order_ids"], strict=True)
        ]
        fault_point("before_commit")
        outcome = journal.outcome_decide(intent["_id"], journal.COMMIT, now=now, orders=docs)
        if outcome["outcome"] != journal.COMMIT:
            raise PurchaseAborted()
        committed = True
        # Committed: from here on a failure leaves the intent to the recovery, which finishes it.
        fault_point("after_commit")
        repository.insert_many(docs)
        fault_point("after_store")
    except BaseException as exc:
        locks.release()  # first: undoing takes them again
        if not committed:
            _abandon(intent, idempotency, exc)
        raise
    batch = Batch()
    locks.release(batch)
    try:
        finish(intent, docs, taken=taken, batch=batch)
        batch.send()
    except Exception:
        logger.warning("order placed; its bookkeeping is left to the recovery", exc_info=True)
    if bulk:
        # An import folds its own ledger entry: reads right after it cost what settled ones do.
        _fold_quietly()
    return docs


def _fold_quietly() -> None:
    try:
        sales.fold(wait=settings.SALES_FOLD_LOCK_SECONDS / 2)
    except Exception:  # the orders stand; the worker folds them
        logger.warning("sales ledger not folded after an import; the worker will", exc_info=True)


def _explain_refusal(orders, needed, exc: Exception, *, bulk: bool) -> None:
    """A product could not be taken: OrderRejected naming every item whose product is missing
    or not for sale (these come before a stock conflict), else the conflict as it is."""
    products = catalog_selectors.products_get_many(product_ids=needed)
    _reject_unorderable(orders, products, bulk=bulk)
    if isinstance(exc, ProductNotOrderable):  # changed since: name the one that failed
        _reject_unorderable(orders, {}, bulk=bulk, only=exc)


def _intent(orders, needed, *, now, user_id, bulk, idem) -> dict:
    intent = {
        "_id": ObjectId(),
        "created_at": now,
        "user_id": "" if user_id is None else str(user_id),
        "bulk": bulk,
        "quantities": [
            {"product_id": str(oid), "quantity": quantity} for oid, quantity in needed.items()
        ],
        "order_ids": [ObjectId() for _ in orders],
    }
    if idem:
        intent["idempotency_key"] = idem["key"]
        intent["idempotency_token"] = idem["token"]
        intent["fingerprint"] = idem["fingerprint"]
    return intent


def intent_quantities(intent: dict) -> dict[ObjectId, int]:
    return {ObjectId(q["product_id"]): int(q["quantity"]) for q in intent["quantities"]}


# Failures after which stock_take has given back everything it took (under a lock still held).
_CLEAN_FAILURES = (StockConflict, ProductNotOrderable, OrderRejected, IdempotencyKeyInUse)


def _settled_marks(marks: list[str]) -> list[str]:
    """Those stock marks ("<intent>:<qty>") whose purchases are finished."""
    finished = journal.intents_finished([mark.split(":", 1)[0] for mark in marks])
    return [mark for mark in marks if mark.split(":", 1)[0] in finished]


def _abandon(intent: dict | None, idempotency: dict | None, exc: BaseException) -> None:
    """The purchase failed before it committed (its locks released): undo it now if possible
    (else the recovery will), and free its Idempotency-Key."""
    clean = isinstance(exc, _CLEAN_FAILURES) or (
        isinstance(exc, StockLockBusy) and not isinstance(exc, StockLockLost)
    )
    try:
        if intent is not None and not clean:
            undo(intent)
            return
        if idempotency is not None:
            journal.idempotency_release(idempotency["key"], idempotency["token"])
        if intent is not None:
            journal.intent_delete(intent["_id"])
    except Exception:
        logger.warning("purchase not undone now; the recovery will", exc_info=True)


def undo(intent: dict) -> None:
    catalog_services.stock_release(
        quantities=intent_quantities(intent), intent_id=str(intent["_id"])
    )
    if intent.get("idempotency_key"):
        journal.idempotency_release(intent["idempotency_key"], intent["idempotency_token"])
    journal.intent_delete(intent["_id"])


def finish(intent: dict, docs: list[dict], *, taken: dict | None = None, batch=None) -> None:
    """Bookkeeping of a committed purchase; idempotent (the recovery may run it again). Its
    Redis writes go in one MULTI: `batch` if given (the caller sends it), else sent here."""
    send = batch is None
    batch = Batch() if batch is None else batch
    for doc in docs:
        event_record(
            event_type="order_created",
            user_id=intent["user_id"],
            metadata={
                "order_id": str(doc["_id"]),
                "customer": doc["customer"],
                "total": cents_to_str(doc["total_cents"]),
                "items": [[i["product_id"], i["quantity"]] for i in doc["items"]],
            },
            event_id=uuid.uuid5(EVENT_NAMESPACE, str(doc["_id"])),
            timestamp=intent["created_at"],
            batch=batch,
        )
    quantities = intent_quantities(intent)
    if taken is not None:
        catalog_services.stock_changes_record(
            before_after={
                oid: (taken[oid]["stock"] + quantity, taken[oid]["stock"])
                for oid, quantity in quantities.items()
            },
            reason="order",
            user_id=intent["user_id"],
            order_ids=[str(doc["_id"]) for doc in docs][:100],
            batch=batch,
        )
    if intent.get("idempotency_key"):
        record = {
            "state": "done",
            "fingerprint": intent["fingerprint"],
            "order_ids": [str(doc["_id"]) for doc in docs],
            "bulk": intent["bulk"],
        }
        journal.idempotency_store(
            intent["idempotency_key"], record, ttl=settings.IDEMPOTENCY_TTL_SECONDS, batch=batch
        )
    # Its stock marks and the intent are cleared in batches by the recovery (_settle_finished):
    # off the request path, one locked write per product for many purchases.
    journal.intent_mark_finished(intent["_id"], batch=batch)
    if send:
        batch.send()


def _stock_conflict(oid: ObjectId, available: int, quantity: int) -> StockConflict:
    return StockConflict(
        oid,
        available=available,
        detail=f"Insufficient stock for product {oid}: {available} available, "
        f"{quantity} requested.",
    )


def _reject_unorderable(
    orders: list[dict], products: dict, *, bulk: bool, only: ProductNotOrderable | None = None
) -> None:
    """OrderRejected naming each item whose product is missing or not for sale."""
    all_errors = []
    for order in orders:
        item_errors = []
        for item in order["items"]:
            oid = ObjectId(item["product_id"])
            message = None
            if only is not None:
                if str(oid) == only.product_id:
                    message = str(only)
            elif oid not in products:
                message = "Unknown product."
            elif not products[oid].get("available", True):
                message = "Product is not available."
            item_errors.append({"product_id": [message]} if message else {})
        all_errors.append({"items": item_errors} if any(item_errors) else {})
    if any(all_errors):
        raise OrderRejected(all_errors if bulk else all_errors[0])


def _order_doc(
    order: dict, products: dict[ObjectId, dict], *, now: datetime, user_id, order_id: ObjectId
) -> dict:
    created_at = truncate_ms(as_utc(order["created_at"])) if order.get("created_at") else now
    return order_document(
        customer=order["customer"],
        lines=[
            (products[ObjectId(item["product_id"])], int(item["quantity"]))
            for item in order["items"]
        ],
        created_at=created_at,
        created_by="" if user_id is None else str(user_id),
        order_id=order_id,
    )
