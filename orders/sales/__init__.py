"""The sales figures: one module, one protocol (docs/sales-summaries.md).

Every change of the sales is one ledger entry, inserted once (its `_id` decides it): a purchase's
commit (or abort) and an order's status change. Summaries per UTC hour, per day and month of the
shop's time zone and per customer are the entries folded in; a read adds the entries not folded
yet, so every figure is exact the moment its entry exists, and a read never writes.

The surface (nothing else of orders.sales is used outside it):
- decide a change: `purchase_decide`, `decision`, `decisions_before`, `decisions_forget`,
  `status_decide` (nothing but a folding pass ever updates an entry: FerretDB's updates are
  read-then-replace, so two writers of one document would lose each other's fields);
- read: `window(start, end)` (totals, day rows, product/category/customer rows, one walk),
  `customer_totals(name)`, `ListCounts` (the order lists' counts), `day_start`;
- keep: `fold()` (the worker; bulk imports fold their own), `rebuild()`, `verify()`,
  `invalidate()` (after a restore), `refresh()` (start-up: rebuild if needed, then fold).
"""

from datetime import date, datetime

from django.conf import settings

from . import store
from .figures import DAY, FIGURES, HOUR
from .fold import LAYOUT, fold, invalidate, is_current, rebuild, verify
from .read import Reader, Rebuilding
from .window import Window, day_start, window

__all__ = [
    # deciding a change
    "purchase_decide", "decision", "decisions_before", "decisions_forget", "status_decide",
    # reading
    "FIGURES", "ListCounts", "Rebuilding", "Window", "customer_totals", "day_start", "window",
    # keeping the summaries
    "LAYOUT", "fold", "invalidate", "is_current", "rebuild", "refresh", "verify",
]  # fmt: skip

COMMIT, ABORT = "commit", "abort"


def purchase_decide(intent_id, outcome: str, *, orders: list[dict], now: datetime) -> dict:
    """Decide a purchase once: the first of the purchase (COMMIT, with its order documents) and
    the recovery (ABORT) to insert wins. Returns the decision that stands."""
    entry = {"_id": intent_id, "outcome": outcome, "created_at": now}
    if outcome == COMMIT:
        entry.update(orders=orders, **{"pass": 0})  # an abort changes no figure: no pass takes it
    return store.insert_once(entry)


def decision(entry_id) -> dict | None:
    return store.entry(entry_id)


def decisions_before(cutoff: datetime, *, outcome: str, limit: int) -> list:
    """Purchase decisions made before `cutoff` (commits only once folded before it)."""
    return store.decisions_before(cutoff, outcome, limit)


def decisions_forget(entry_ids: list) -> int:
    """Delete purchase decisions nothing can decide again (their intents are gone)."""
    return store.delete_entries(entry_ids)


def status_decide(order: dict, status: str, *, at: datetime, reason: str | None, user_id):
    """Decide an order's one change of status (fulfilled or cancelled), once: the first to
    insert wins, whatever races it. Returns the decision that stands."""
    snapshot = {
        name: order[name]
        for name in ("_id", "customer", "created_at", "items", "total_cents", "quantity")
    }
    return store.insert_once(
        {
            "_id": f"status:{order['_id']}",
            "status": status,
            "order": snapshot,
            "at": at,
            "reason": reason,
            "user_id": "" if user_id is None else str(user_id),
            "pass": 0,
        }
    )


def customer_totals(name: str) -> dict | None:
    """{customer, orders, total_spent_cents, average_order_cents (half up), first_order_at,
    last_order_at} over the customer's orders that are not cancelled; None if none."""
    from .read import customer

    doc = customer(name)
    if doc is None:
        return None
    count, spent = doc["orders"], doc["total_cents"]
    return {
        "customer": name,
        "orders": count,
        "total_spent_cents": spent,
        "average_order_cents": (2 * spent + count) // (2 * count),
        "first_order_at": doc["first_order_at"],
        "last_order_at": doc["last_order_at"],
    }


class ListCounts:
    """The order lists' counts (listed, fulfilled, cancelled; an hour's per_minute), read as a
    walk newest first reaches them: a month of the shop's days, a UTC day's hours. Exact, and
    one ledger read for the whole walk unless a folding pass starts meanwhile."""

    def __init__(self):
        self._reader: Reader | None = None
        self._read: dict[tuple[str, str], dict[str, dict]] = {}

    def _under(self, kind: str, parent: str) -> dict[str, dict]:
        with store.stats_reads():
            return self._under_now(kind, parent)

    def _under_now(self, kind: str, parent: str) -> dict[str, dict]:
        if (kind, parent) not in self._read:
            if self._reader is None:
                self._reader = Reader()
                self._reader.find(kind, parent)
                found = self._reader.finish().under(kind, parent)
            else:
                self._reader.more(finds=[(kind, parent)])
                found = self._reader.under(kind, parent)
            self._read[(kind, parent)] = found
        return self._read[(kind, parent)]

    def day(self, day: date) -> dict | None:
        """A shop day's counts."""
        return self._under(DAY, day.isoformat()[:7]).get(day.isoformat())

    def hours(self, utc_day: str) -> dict[str, dict]:
        """A UTC day's hours' counts, by hour key."""
        return self._under(HOUR, utc_day)


def refresh() -> int:
    """Bring the summaries up to date: rebuilt if their layout or time zone is not the
    configured one, then the ledger folded (start-up, the worker, after a restore)."""
    if not is_current(store.state()):
        rebuild()
    return fold(wait=settings.SALES_FOLD_LOCK_SECONDS)
