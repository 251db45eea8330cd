"""An order's one change of status after it is placed: fulfilled or cancelled.

0. Note the order as changing (an insert; the recovery's list of what may be half done).
1. Decide it: the order's status entry in the sales ledger, inserted once (orders/sales): of two
   racing changes one wins, and the sales figures follow from that insert on.
2. A cancel gives each item's quantity back to its product, marked with the decision so it
   happens once (a product deleted since gets nothing), and only while the order does not show
   its new status yet (checked under the product's lock: see 5).
3. Write the status onto the order; 4. record the event (its id derived from the decision, so
   the log holds it once); 5. drop the "changing" note, then forget the stock marks: a late
   repeat of step 2 finds the status written and gives nothing back.
Every step is idempotent: `recover` (the worker) finishes what a crash left half done, so the
stock comes back exactly once whichever process dies where. Nothing here updates the ledger
entry (FerretDB's read-then-replace updates would race the folding pass's).
"""

import logging
import uuid
from datetime import timedelta

from bson import ObjectId
from django.conf import settings

from catalog import services as catalog_services
from eventlog.services import event_record
from shopsite.faults import fault_point
from shopsite.timeutil import as_utc, utcnow

from . import repository, sales
from .exceptions import OrderNotFound, OrderStatusConflict

logger = logging.getLogger(__name__)

EVENTS = {"cancelled": "order_cancelled", "fulfilled": "order_fulfilled"}
EVENT_NAMESPACE = uuid.UUID("0b8f6a0e-3d1c-4f6e-9a5b-7c2d1e4f8a90")


def change(*, order_id, status: str, user_id, reason: str | None = None) -> dict:
    """Fulfil or cancel a placed order; the same change again changes nothing. Returns the order
    after. OrderNotFound; OrderStatusConflict if it already took the other way."""
    oid = repository.parse_id(order_id)
    order = repository.find_by_id(oid) if oid is not None else None
    if order is None:
        raise OrderNotFound(order_id)
    current = order.get("status", "placed")
    if current != "placed" and current != status:
        raise OrderStatusConflict(current, status)
    if current == status:
        return order
    repository.changing_add(oid, utcnow())
    decision = sales.status_decide(order, status, at=utcnow(), reason=reason, user_id=user_id)
    if decision["status"] != status:
        finish(decision)  # the other change won: carry it out (idempotent) before saying so
        raise OrderStatusConflict(decision["status"], status)
    fault_point("after_status_decided")
    finish(decision)
    return repository.find_by_id(oid)


def finish(decision: dict) -> None:
    """Carry out a decided change (idempotent: the recovery may run it again)."""
    order, status = decision["order"], decision["status"]
    mark_id = str(decision["_id"])
    quantities: dict[ObjectId, int] = {}
    if status == "cancelled":
        for item in order["items"]:
            oid = ObjectId(item["product_id"])
            quantities[oid] = quantities.get(oid, 0) + item["quantity"]
        changed = catalog_services.stock_give_back(
            quantities=quantities,
            change_id=mark_id,
            due=lambda: repository.find_by_id(order["_id"], {"status": 1}).get("status") != status,
        )
        fault_point("after_stock_back")
        if changed:
            catalog_services.stock_changes_record(
                before_after=changed,
                reason="order_cancelled",
                user_id=decision["user_id"],
                order_ids=[str(order["_id"])],
            )
    fields = {"status": status, f"{status}_at": decision["at"]}
    if status == "cancelled":
        fields["cancel_reason"] = decision.get("reason")
    repository.set_status(order["_id"], fields)
    fault_point("after_status_written")
    metadata = {"order_id": str(order["_id"]), "customer": order["customer"]}
    if status == "cancelled":
        metadata["reason"] = decision.get("reason") or ""
    event_record(
        event_type=EVENTS[status],
        user_id=decision["user_id"],
        metadata=metadata,
        event_id=uuid.uuid5(EVENT_NAMESPACE, mark_id),
        timestamp=decision["at"],
    )
    repository.changing_remove(order["_id"])
    if quantities:
        catalog_services.stock_unmark(
            marks={
                oid: [catalog_services.stock_mark(mark_id, quantity)]
                for oid, quantity in quantities.items()
            }
        )


def recover(*, older_than_seconds: float | None = None) -> int:
    """Finish every change noted longer ago than the given age and not done; returns how many."""
    if older_than_seconds is None:
        older_than_seconds = settings.ORDER_INTENT_RECOVER_AFTER_SECONDS
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    done = 0
    for note in repository.changing():
        if as_utc(note["at"]) > cutoff:
            continue
        decision = sales.decision(f"status:{note['_id']}")
        try:
            if decision is None:  # died before deciding: nothing to carry out
                repository.changing_remove(note["_id"])
                continue
            finish(decision)
            done += 1
            logger.warning("recovery: status change %s finished", decision["_id"])
        except Exception:
            logger.exception("recovery: status change of %s left for the next round", note["_id"])
    return done
