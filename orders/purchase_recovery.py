"""The recovery of purchases (services.order_intents_recover: run by the event worker
continuously and at its start-up; orders/purchase.py has the protocol): every intent older than
ORDER_INTENT_RECOVER_AFTER_SECONDS is finished if committed and undone otherwise; finished
intents and their stock marks are settled in batches; old outcomes are forgotten."""

import logging
import time
from datetime import datetime, timedelta

from bson import ObjectId
from django.conf import settings

from catalog import services as catalog_services
from shopsite.timeutil import utcnow

from . import purchase, repository
from . import purchase_repository as journal

logger = logging.getLogger(__name__)

RECOVER_BATCH = 100
SETTLE_BATCH = 1000
# Outcomes are kept this long after their intent is gone (a stalled purchase that wakes up
# later than this cannot be told it was aborted; its stock writes are still fenced off).
OUTCOME_KEEP_SECONDS = 24 * 3600
COMMITTED_OUTCOME_KEEP_SECONDS = 60
# Finding old outcomes reads every outcome on FerretDB (a range is not pushed down): done every
# this often per process, not every recovery round (each order's outcome is kept a bit longer).
FORGET_OUTCOMES_EVERY_SECONDS = 30
FORGET_BATCH = 1000
_outcomes_forgotten_at = float("-inf")


def recover(*, older_than_seconds: float | None = None) -> dict:
    """services.order_intents_recover."""
    if older_than_seconds is None:
        older_than_seconds = settings.ORDER_INTENT_RECOVER_AFTER_SECONDS
    now = utcnow()
    report = {"placed": 0, "undone": 0, "failed": 0, "settled": 0}
    cutoff = now - timedelta(seconds=older_than_seconds)
    report["settled"] = _settle_finished()
    for intent in journal.intents_created_before(cutoff, limit=RECOVER_BATCH):
        if journal.intent_is_finished(intent["_id"]):
            continue  # placed and answered: only its settling is left (next round)
        try:
            outcome = journal.outcome_decide(intent["_id"], journal.ABORT, now=utcnow())
            if outcome["outcome"] == journal.COMMIT:
                _store_missing(outcome["orders"])
                purchase.finish(intent, outcome["orders"])
                report["placed"] += 1
                logger.warning("recovery: purchase %s finished", intent["_id"])
            else:
                purchase.undo(intent)
                report["undone"] += 1
                logger.warning("recovery: purchase %s undone", intent["_id"])
        except Exception:
            report["failed"] += 1
            logger.exception("recovery: purchase %s left for the next round", intent["_id"])
    report["settled"] += _settle_finished()  # what this round finished
    global _outcomes_forgotten_at
    if time.monotonic() - _outcomes_forgotten_at >= FORGET_OUTCOMES_EVERY_SECONDS:
        _outcomes_forgotten_at = time.monotonic()
        _forget_outcomes(now)
    return report


def _store_missing(docs: list[dict]) -> None:
    """Store a committed purchase's orders that are not stored yet (idempotent by their ids)."""
    ids = [doc["_id"] for doc in docs]
    if len(repository.find_each(ids, {"_id": 1})) < len(ids):
        repository.insert_many(docs)


def _settle_finished() -> int:
    """Clear the stock marks and the intents of finished purchases, in one batch: per product
    one locked write for all its marks. Idempotent; returns how many purchases."""
    ids = journal.finished_intent_ids(limit=SETTLE_BATCH)
    if not ids:
        return 0
    intents = journal.intents_by_ids([ObjectId(i) for i in ids])
    marks: dict[ObjectId, list[str]] = {}
    for intent in intents:
        for oid, quantity in purchase.intent_quantities(intent).items():
            mark = catalog_services.stock_mark(str(intent["_id"]), quantity)
            marks.setdefault(oid, []).append(mark)
    catalog_services.stock_unmark(marks=marks)
    journal.intents_delete([intent["_id"] for intent in intents])
    journal.finished_forget(ids)
    return len(intents)


def _forget_outcomes(now: datetime) -> None:
    """Outcomes whose intent is gone: committed ones soon, aborted ones after a day."""
    for outcome, keep in (
        (journal.COMMIT, COMMITTED_OUTCOME_KEEP_SECONDS),
        (journal.ABORT, OUTCOME_KEEP_SECONDS),
    ):
        cutoff = now - timedelta(seconds=keep)
        while True:  # a full batch: maybe more (a run covers FORGET_OUTCOMES_EVERY_SECONDS)
            ids = journal.outcomes_created_before(cutoff, outcome=outcome, limit=FORGET_BATCH)
            if ids and journal.outcomes_delete_without_intent(ids) and len(ids) == FORGET_BATCH:
                continue
            break
