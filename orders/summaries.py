"""Sales summaries per UTC hour, per day and per customer, recomputed from the orders (Computed
pattern).

Never incremented: FerretDB's updates are read-then-replace and nothing is transactional, so a
summary is always recomputed whole: an hour's from that hour's orders, a day's as the sum of its
hours, a customer's from that customer's orders. The unit of recompute is the hour, so keeping a
busy day fresh costs what one hour holds. Why it is exact, whatever the interleaving:

- Each insert writes a marker per hour and customer BEFORE the orders (naming their ids) and one
  AFTER them (orders/repository.insert_many): each a document of its own in `sales_dirty`, all of
  an insert's "before" markers in one insert command and its "after" markers in another. A
  document's insert is atomic on both servers (a command's need not be: a writer that dies
  half-way through one leaves some markers, and the orders are only inserted once every
  "before" marker is), so each marker is still an independent, insert-only fact.
- A recompute (the worker's periodic refresh, `refresh_summaries`, the rebuild) reads the key's
  markers first, then its orders, writes the hour, re-sums its day and then its month, each under
  its lock, and only then deletes the markers it saw: an "after" marker (its orders were visible
  to the read), or a "before" marker whose orders the read did see, or whose insert is older than
  PENDING_GRACE (it failed or its process died before inserting). An order the read missed was
  inserted after the markers were read, so its "after" marker (or, if its writer died, its
  "before" one) stays.
- Recomputes of one hour are serialised by its lock, re-sums of one day (month) by its lock (the
  last re-sum reads every hour (day) written before it); one that finds its lock expired writes
  nothing, or marks the hour dirty again if it lost the lock after writing. So a day or month
  without dirty hours has stored summaries that cover every order.
- Reads take no lock and write nothing: they read the markers first, use the stored summaries
  of clean hours and days, and summarise dirty hours (and a dirty customer) from their orders in
  memory. A hot hour never makes a read wait, and every answer is exact. A store without the
  BUILT marker (new, wiped, restored) is marked dirty everywhere on first use.
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
from .figures import FIGURES, merge, moments, summarize, summarize_customer

logger = logging.getLogger(__name__)

LOCK_PREFIX = "sales-summary-lock:"
# A "before" marker whose orders are still not visible after this long belongs to an insert
# that failed or never happened (far beyond the MongoDB socket timeout).
PENDING_GRACE = timedelta(minutes=10)
ORDER_FIELDS = {"created_at": 1, "customer": 1, "items": 1, "total_cents": 1, "quantity": 1}
CUSTOMER_FIELDS = {"created_at": 1, "total_cents": 1}


class SummaryBusy(BackendUnavailable):
    """Another refresh held a summary's lock for longer than the wait: the key stays dirty for
    the next pass (reads take no lock, so a request never sees this)."""

    def __init__(self, key: str):
        super().__init__("mongodb", f"sales summary {key} busy")


def hour_summary(docs: list[dict]) -> dict | None:
    """What is stored of an hour: the summary of its orders and their moments."""
    summary = summarize(docs)
    return summary and {**summary, "moments": moments(docs)}


def hour_from_orders(hour: str, since: datetime | None = None, until: datetime | None = None):
    """The hour's summary straight from its orders (optionally only since <= t < until)."""
    docs = repository.find_hour(hour, ORDER_FIELDS)
    if since is not None or until is not None:
        docs = [
            doc for doc in docs
            if (since is None or doc["created_at"] >= since)
            and (until is None or doc["created_at"] < until)
        ]  # fmt: skip
    return summarize(docs)


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


def _resum(key: str, parts: Iterable[dict], write) -> None:
    """Write a day or month as the sum of its stored parts (hours or days), under its lock: re-sums
    of one key are serialised, so the last one reads every part written before it started."""
    with _locked(key) as lock:
        total = merge(parts())
        if not lock.owned():
            raise SummaryBusy(key)  # the caller keeps its hours dirty
        figures = {name: total[name] for name in FIGURES} if total else None
        lines = {part: total[part] for part in ("products", "categories")} if total else {}
        write(figures, lines, total["customers"] if total else [])


def resum_day(day: str) -> None:
    """The day's three documents as the sum of its stored hours."""
    _resum(
        "day:" + day,
        lambda: store.hour_docs(day).values(),
        lambda *summary: store.write_day(day, *summary),
    )


def resum_month(month: str) -> None:
    """The month's three documents as the sum of its stored days."""
    _resum(
        "month:" + month,
        lambda: store.days_of_month(month),
        lambda *summary: store.write_month(month, *summary),
    )


# A day with at least this many dirty hours is read whole (one query) rather than hour by hour.
READ_DAY_FROM_HOURS = 4


def _recompute_hours(day: str, hours: list[str]) -> list[tuple[str, list]]:
    """Write the summaries of some hours of one day from their orders, each under its lock;
    returns (hour, markers that may be deleted once the day is re-summed) of each hour written
    (a busy hour is skipped: its markers stay)."""
    with contextlib.ExitStack() as stack:
        locks = {}
        for hour in hours:  # sorted: two refreshers never wait on each other in a cycle
            try:
                locks[hour] = stack.enter_context(_locked("hour:" + hour))
            except SummaryBusy:
                logger.info("sales summary of hour %s busy; left for the next pass", hour)
        if len(locks) >= READ_DAY_FROM_HOURS:
            seen = store.day_hour_markers(day)  # markers first, then the orders
            docs_by_hour: dict[str, list[dict]] = {}
            for doc in repository.find_day(day, {**ORDER_FIELDS, "hour": 1}):
                docs_by_hour.setdefault(store.order_hour(doc), []).append(doc)
        else:
            seen = {hour: store.hour_markers(hour) for hour in locks}
            docs_by_hour = {hour: repository.find_hour(hour, ORDER_FIELDS) for hour in locks}
        written = []
        for hour, lock in locks.items():
            docs = docs_by_hour.get(hour, [])
            if not lock.owned():
                continue  # another recompute may be running: write nothing
            store.write_hour(hour, hour_summary(docs))
            if not lock.owned():
                store.mark_dirty(hours=[hour])  # a newer summary may have been overwritten
                continue
            written.append((hour, _removable(seen.get(hour, []), {doc["_id"] for doc in docs})))
        return written


def refresh_hours(hours: Iterable[str]) -> int:
    """Recompute the given hours, then their days (one re-sum per day), then their months, then
    delete the markers they saw (see the module docstring). A busy hour, day or month stays
    dirty. Returns how many hours were recomputed."""
    by_month: dict[str, dict[str, list[str]]] = {}
    for hour in sorted(set(hours)):
        by_month.setdefault(hour[:7], {}).setdefault(hour[:10], []).append(hour)
    done = 0
    for month, days in by_month.items():
        summed = []
        for day, day_hours in days.items():
            written = _recompute_hours(day, day_hours)
            try:
                resum_day(day)
            except SummaryBusy:
                logger.info("sales summary of day %s busy; its hours stay dirty", day)
                continue
            summed.extend(written)
        try:
            resum_month(month)
        except SummaryBusy:
            logger.info("sales summary of month %s busy; its hours stay dirty", month)
            continue
        for hour, removable in summed:
            store.clear_markers({"hour": hour}, removable)
        done += len(summed)
    return done


def refresh_customer(name: str) -> None:
    """Recompute one customer's summary from that customer's orders."""
    with _locked("customer:" + name) as lock:
        seen = store.customer_markers(name)
        docs = repository.find_customer(name, CUSTOMER_FIELDS)
        if not lock.owned():
            return
        store.write_customer(name, summarize_customer(docs))
        store.clear_markers({"customer": name}, _removable(seen, {doc["_id"] for doc in docs}))
        if not lock.owned():
            store.mark_dirty(customers=[name])


def mark_everything_dirty() -> None:
    """Every hour and customer with orders or with a summary: recomputed on the next refresh
    (and summarised from the orders by reads until then)."""
    hours, days, customers = repository.scan_keys()
    hours |= store.all_summary_hours()
    # Days and months summarised without hours of their own: re-summed (emptied) as well.
    hours |= {day + "T00" for day in store.all_summary_days() - days}
    hours |= {month + "-01T00" for month in store.all_summary_months() - {h[:7] for h in hours}}
    store.mark_dirty(hours=hours, customers=customers | store.all_summary_customers())
    store.set_built(store.MONTHS_BUILT)  # every month with a summary has a dirty hour
    store.set_built()


def build_months() -> None:
    """Every month's summaries from its days (a store from before month summaries)."""
    for month in sorted({day[:7] for day in store.all_summary_days()} | store.all_summary_months()):
        resum_month(month)
    store.set_built(store.MONTHS_BUILT)


def months_ready() -> bool:
    """Whether clean months may be read from the month summaries (reads never build them)."""
    return store.is_built(store.MONTHS_BUILT)


def invalidate() -> None:
    """Forget that the summaries cover every order: the next read (or rebuild) recomputes all."""
    store.unset_built()


def ensure_built() -> None:
    if not store.is_built():
        logger.info("sales summaries missing: rebuilding them from the orders")
        mark_everything_dirty()


def dirty_hours() -> set[str]:
    """The hours whose stored summaries may be stale (read BEFORE reading any summary)."""
    ensure_built()
    return store.dirty_hours()


def customer_summary(name: str) -> dict | None:
    """The customer's exact summary: the stored one, or from the orders while it is dirty."""
    ensure_built()
    if store.customer_markers(name):
        return summarize_customer(repository.find_customer(name, CUSTOMER_FIELDS))
    return store.customer(name)


def refresh_all() -> int:
    """Recompute every dirty hour and customer (the worker, every few seconds; the rebuild; the
    bench after a bulk import). Returns how many hours and customers it recomputed."""
    ensure_built()
    if not months_ready():
        build_months()
    done = refresh_hours(store.dirty_hours())
    for name in sorted(store.dirty_customer_names()):
        try:
            refresh_customer(name)
            done += 1
        except SummaryBusy:
            # Another process holds this key: it stays dirty for them or the next pass, and
            # one busy key never starves every later one.
            logger.info("sales summary of customer %r busy; left for the next pass", name)
    return done
