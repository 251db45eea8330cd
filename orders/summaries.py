"""Sales summaries per UTC day and per customer, recomputed from the orders (Computed pattern).

Never incremented: FerretDB's updates are read-then-replace and nothing is transactional, so a
summary is always recomputed whole from its day's (or customer's) orders, under a per-key Redis
lock, whenever dirty markers say it may be stale. Why that is exact, whatever interleaving:

- Each insert writes a marker per day and customer BEFORE the orders (naming their ids) and one
  AFTER them (orders/repository.insert_many). Inserts are atomic on both servers.
- A recompute reads the key's markers first, then its orders, writes the summary, then deletes
  only markers it saw: an "after" marker (the orders it covers were visible to the read), or a
  "before" marker whose orders the read did see, or whose insert is older than PENDING_GRACE
  (it failed or its process died before inserting). An order the read missed was inserted after
  the markers were read, so its "after" marker is still there (or, if its writer died before
  writing it, its "before" marker is kept): the key stays dirty and is recomputed again.
- Recomputes of one key are serialised by the lock; one that finds its lock expired writes
  nothing, or marks the key dirty again if it lost the lock after writing.
- Readers (stats, order lists) recompute every dirty day, and the asked customer, first, so
  every answer is exact; a store without the `built` marker (new, wiped, restored without
  summaries) is rebuilt from the orders on the first read.
"""

import contextlib
import logging
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from django.conf import settings
from redis.exceptions import LockError, RedisError

from shopsite.errors import BackendUnavailable
from shopsite.redis_client import get_redis

from . import repository
from . import summary_repository as store

logger = logging.getLogger(__name__)

LOCK_PREFIX = "sales-summary-lock:"
# A "before" marker whose orders are still not visible after this long belongs to an insert
# that failed or never happened (far beyond the MongoDB socket timeout).
PENDING_GRACE = timedelta(minutes=10)
DAY_FIELDS = {"created_at": 1, "customer": 1, "items": 1, "total_cents": 1, "quantity": 1}
CUSTOMER_FIELDS = {"created_at": 1, "total_cents": 1}


class SummaryBusy(BackendUnavailable):
    """Another process held a summary's lock for longer than the wait (503: retry)."""

    def __init__(self, key: str):
        super().__init__("mongodb", f"sales summary {key} busy")


# --- computing from orders (pure) ---------------------------------------------------------------


def summarize_day(docs: Iterable[dict]) -> tuple[dict, dict, list] | None:
    """(totals, {"products", "categories"}, customers) of some orders of one day; None if none.

    products: {product_id, name, category, quantity, revenue_cents, last_at, last_id}: the name
    recorded by the latest order (created_at, then _id), so windows can pick the latest name.
    """
    totals = {"orders": 0, "quantity": 0, "revenue_cents": 0}
    products: dict[str, dict] = {}
    categories: dict[str, dict] = {}
    customers: dict[str, dict] = {}
    for doc in docs:
        totals["orders"] += 1
        totals["quantity"] += doc["quantity"]
        totals["revenue_cents"] += doc["total_cents"]
        buyer = customers.setdefault(
            doc["customer"], {"customer": doc["customer"], "orders": 0, "revenue_cents": 0}
        )
        buyer["orders"] += 1
        buyer["revenue_cents"] += doc["total_cents"]
        stamp = (doc["created_at"], str(doc["_id"]))
        for item in doc["items"]:
            row = products.setdefault(
                item["product_id"],
                {"product_id": item["product_id"], "quantity": 0, "revenue_cents": 0,
                 "last_at": None, "last_id": ""},
            )  # fmt: skip
            row["quantity"] += item["quantity"]
            row["revenue_cents"] += item["line_total_cents"]
            if row["last_at"] is None or stamp > (row["last_at"], row["last_id"]):
                row.update(name=item["name"], category=item["category"])
                row["last_at"], row["last_id"] = stamp
            group = categories.setdefault(
                item["category"], {"category": item["category"], "quantity": 0, "revenue_cents": 0}
            )
            group["quantity"] += item["quantity"]
            group["revenue_cents"] += item["line_total_cents"]
    if not totals["orders"]:
        return None
    lines = {"products": list(products.values()), "categories": list(categories.values())}
    return totals, lines, list(customers.values())


def summarize_customer(docs: Iterable[dict]) -> dict | None:
    count, total, first, last = 0, 0, None, None
    for doc in docs:
        count += 1
        total += doc["total_cents"]
        first = doc["created_at"] if first is None else min(first, doc["created_at"])
        last = doc["created_at"] if last is None else max(last, doc["created_at"])
    if not count:
        return None
    return {"orders": count, "total_cents": total, "first_order_at": first, "last_order_at": last}


# --- keeping them fresh -------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(key: str) -> Iterator:
    lock = get_redis().lock(
        LOCK_PREFIX + key,
        timeout=settings.SUMMARY_LOCK_TIMEOUT_SECONDS,
        blocking_timeout=settings.SUMMARY_LOCK_WAIT_SECONDS,
        sleep=0.01,
    )
    if not lock.acquire():
        raise SummaryBusy(key)
    try:
        yield lock
    finally:
        with contextlib.suppress(LockError, RedisError):  # expired: it is gone anyway
            lock.release()


def _removable(markers: list[dict], seen_ids: set) -> list:
    """The markers a recompute that saw `seen_ids` (order ids) may delete."""
    now = datetime.now(UTC)
    removable = []
    for marker in markers:
        pending = marker.get("orders")
        if (
            pending is None
            or seen_ids.issuperset(pending)
            or now - marker["_id"].generation_time > PENDING_GRACE
        ):
            removable.append(marker["_id"])
    return removable


def _refresh(
    key: str, markers, read, write, dirty: store.SummaryCollection, field: dict, mark
) -> None:
    """Recompute one summary from its orders (see the module docstring for the order of steps)."""
    with _locked(key) as lock:
        seen = markers()
        docs = read()
        if not lock.owned():
            return  # another recompute may be running: write nothing, the markers stay
        write(docs)
        store.clear_markers(dirty, field, _removable(seen, {doc["_id"] for doc in docs}))
        if not lock.owned():
            mark()


def refresh_day(day: str) -> None:
    """Recompute one day's summary from its orders."""

    def write(docs):
        totals, lines, customers = summarize_day(docs) or (None, {}, [])
        store.write_day(day, day[:7], totals, lines, customers)

    _refresh(
        "day:" + day,
        markers=lambda: store.day_markers(day),
        read=lambda: repository.find_day(day, DAY_FIELDS),
        write=write,
        dirty=store.DIRTY_DAYS,
        field={"day": day},
        mark=lambda: store.mark_dirty(days=[day]),
    )


def refresh_customer(name: str) -> None:
    """Recompute one customer's summary from that customer's orders."""
    _refresh(
        "customer:" + name,
        markers=lambda: store.customer_markers(name),
        read=lambda: repository.find_customer(name, CUSTOMER_FIELDS),
        write=lambda docs: store.write_customer(name, summarize_customer(docs)),
        dirty=store.DIRTY_CUSTOMERS,
        field={"customer": name},
        mark=lambda: store.mark_dirty(customers=[name]),
    )


def mark_everything_dirty() -> None:
    """Every day and customer with orders or with a summary: recomputed on the next refresh."""
    days = set(repository.distinct_days()) | store.all_summary_days()
    customers = set(repository.distinct_customers()) | store.all_summary_customers()
    store.mark_dirty(days=days, customers=customers)
    store.set_built()


def invalidate() -> None:
    """Forget that the summaries cover every order: the next read (or rebuild) recomputes all."""
    store.unset_built()


def ensure_built() -> None:
    if not store.is_built():
        logger.info("sales summaries missing: rebuilding them from the orders")
        mark_everything_dirty()


def dirty_days() -> list[str]:
    return sorted({marker["day"] for marker in store.dirty_day_markers()})


def refresh_days(days: Iterable[str] | None = None) -> None:
    """Recompute the given days, or every dirty day, so the day summaries are exact."""
    ensure_built()
    for day in dirty_days() if days is None else days:
        refresh_day(day)


def fresh_customer(name: str) -> dict | None:
    """The customer's exact summary (recomputed first if dirty); None without orders."""
    ensure_built()
    if store.customer_markers(name):
        refresh_customer(name)
    return store.customer(name)


def refresh_all(progress=None) -> None:
    """Every dirty day and customer (the rebuild, and the bench after a bulk import)."""
    ensure_built()
    days = dirty_days()
    customers = sorted(store.dirty_customer_names())
    keys = [(refresh_day, day) for day in days] + [(refresh_customer, name) for name in customers]
    for refresh, key in keys:
        try:
            refresh(key)
        except SummaryBusy:
            # Another process holds this key (a read recomputing a busy day): it stays dirty
            # for them or the next pass, and one hot day never starves every later key.
            logger.info("sales summary %s busy; left for its holder or the next pass", key)
        if progress:
            progress()


# --- rebuild and verification -------------------------------------------------------------------


def _normal_day(totals: dict | None, lines: dict | None, customers: list | None) -> dict | None:
    """A comparable form of one day's summary (lists keyed, storage fields dropped)."""
    if not totals:
        return None
    return {
        "totals": {name: totals[name] for name in ("orders", "quantity", "revenue_cents")},
        "products": {row["product_id"]: row for row in (lines or {}).get("products", [])},
        "categories": {row["category"]: row for row in (lines or {}).get("categories", [])},
        "customers": {row["customer"]: row for row in customers or []},
    }


def _day_difference(day: str) -> str | None:
    """What differs between the day's stored summary and its orders (None: nothing, or the day
    changed meanwhile and is dirty, so the stored one is not yet due)."""
    markers = store.day_markers(day)
    expected = summarize_day(repository.find_day(day, DAY_FIELDS))
    expected = _normal_day(*expected) if expected else None
    days_doc, lines_doc, customers_doc = store.stored_day(day)
    stored = _normal_day(days_doc, lines_doc, (customers_doc or {}).get("customers"))
    if stored == expected or markers or store.day_markers(day):
        return None
    if stored is None or expected is None:
        return (
            f"day {day}: stored {'nothing' if stored is None else stored['totals']}, "
            f"orders give {'nothing' if expected is None else expected['totals']}"
        )
    parts = [name for name in expected if expected[name] != stored[name]]
    return (
        f"day {day}: {', '.join(parts)} differ ({stored['totals']} stored, "
        f"{expected['totals']} from the orders)"
    )


def _customer_difference(name: str) -> str | None:
    markers = store.customer_markers(name)
    expected = summarize_customer(repository.find_customer(name, CUSTOMER_FIELDS))
    stored = store.customer(name)
    if stored is not None:
        stored = {key: stored[key] for key in ("orders", "total_cents", "first_order_at",
                                               "last_order_at")}  # fmt: skip
    if stored == expected or markers or store.customer_markers(name):
        return None
    return f"customer {name!r}: stored {stored}, orders give {expected}"


def rebuild(*, verify: bool, progress=None) -> list[str]:
    """Compare every day's and customer's summary with its orders; unless verifying only,
    recompute each of them. Returns the differences found (before the rebuild fixed them)."""
    if verify:
        refresh_all()  # pending changes are not differences
    days = sorted(set(repository.distinct_days()) | store.all_summary_days())
    customers = sorted(set(repository.distinct_customers()) | store.all_summary_customers())
    if progress:
        progress(total=len(days) + len(customers))
    differences = []
    for kind, keys, compare, recompute in (
        ("day", days, _day_difference, refresh_day),
        ("customer", customers, _customer_difference, refresh_customer),
    ):
        for key in keys:
            difference = compare(key)
            if difference:
                differences.append(difference)
            if not verify:
                recompute(key)
            if progress:
                progress(step=kind)
    if not verify:
        store.set_built()
    return differences
