"""Sales summaries per UTC hour, per day and per customer, kept exact without transactions
(Computed pattern).

FerretDB's updates are read-then-replace and nothing is transactional, so a summary is written
whole, under its key's lock: an hour's, a customer's, and a day's (month's) as the sum of its
stored hours (days). What keeps them exact is the markers in `sales_dirty`, each an insert-only
document of its own (a document's insert is atomic on both servers):

- An insert of orders (orders/repository.insert_many) first writes, per hour and customer, a
  "before" marker naming its orders and carrying their figures; after an insert that stored
  every order itself, a "confirming" marker per "before" marker. A failure, or orders already
  stored, writes a plain "recompute" marker instead, and the recovery (which may store a
  purchase's orders again) writes only "recompute" markers: no order is named by two markers.
  All of an insert's markers go in one command before and one after.
- A stored summary lists the markers it has absorbed (`absorbed`, while they exist) and carries
  a version (`v`). Invariant: every order of the key is in the summary, or named by a live
  (existing, not absorbed) "before" marker, or its key has a "recompute" marker; and no order
  named by a live "before" marker is in the summary.
- A refresh (the worker's, `refresh_summaries`, the rebuild) adds the figures of the confirmed
  markers to the stored summary, without reading any order: the cost is what was written since.
  A "before" marker left unconfirmed for UNCONFIRMED_AFTER (its writer died or failed around the
  insert) is settled by its orders' ids: all stored, its figures are added (being live, none of
  its orders is in the summary); none stored after PENDING_GRACE, it is absorbed with nothing;
  none stored yet, it waits. A "recompute" marker, or a stale marker with only some of its
  orders stored, makes the refresh recompute the key from its orders instead: markers, then
  orders, then markers again; orders named by markers that stay (new ones, or whose orders are
  not all visible yet) are left out, and every other marker is absorbed. Then the days and
  months are re-summed, each under its lock, and only then are the absorbed markers deleted.
  Recomputes of one key are serialised by its lock; one that lost its lock writes nothing, or a
  "recompute" marker if it lost it after writing.
- A recompute gives the hour's orders stored without their `minute` (an older store, a restored
  backup) that field, so its summary says `minutes` and lists walk it minute by minute; a stored
  hour that says some lack it is recomputed rather than added to.
- Reads take no lock and write nothing. A key without markers is read as stored (markers first,
  then the summary). A dirty one is read as its stored summary, then its markers, then its version
  again (retried if a refresh wrote in between), plus the figures of its confirmed live markers
  and the visible orders of its unconfirmed ones (inserts in flight, or whose writer died after
  inserting: a few, read by `_id`); while a "recompute" marker is live it is summarised from its
  orders. Every answer is exact, and a busy hour costs its new orders' markers, not its orders.
  A store without the BUILT marker (new, wiped, restored) is marked dirty everywhere on first
  use.
"""

import contextlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from redis.exceptions import LockError, RedisError

from shopsite.errors import BackendUnavailable
from shopsite.redis_client import get_redis

from . import repository
from . import summary_repository as store
from .figures import (
    FIGURES,
    PARTS,
    add_customers,
    add_hours,
    hour_summary,
    merge,
    summarize,
    summarize_customer,
)

logger = logging.getLogger(__name__)

LOCK_PREFIX = "sales-summary-lock:"
# A "before" marker whose orders are still not visible after this long belongs to an insert
# that failed or never happened (far beyond the MongoDB socket timeout).
PENDING_GRACE = timedelta(minutes=10)
ORDER_FIELDS = {
    "created_at": 1, "customer": 1, "items": 1, "total_cents": 1, "quantity": 1, "minute": 1,
}  # fmt: skip
CUSTOMER_FIELDS = {"created_at": 1, "total_cents": 1}


class SummaryBusy(BackendUnavailable):
    """Another refresh held a summary's lock for longer than the wait: the key stays dirty for
    the next pass (reads take no lock, so a request never sees this)."""

    def __init__(self, key: str):
        super().__init__("mongodb", f"sales summary {key} busy")


# A "before" marker still unconfirmed after this long: its writer died or failed around the
# insert, so its key is recomputed from the orders (reads do so at once).
UNCONFIRMED_AFTER = timedelta(seconds=30)
# A refresh settles at most this many stale markers' order ids by `_id`; more, and it recomputes.
UNCONFIRMED_SETTLE_MAX = 200
# A read retries this often when a refresh rewrites the summary under it, then reads the orders.
READ_ATTEMPTS = 3
HOUR_PARTS = ("products", "categories", "customers", "moments", "per_minute")


@dataclass
class _Pending:
    """A key's live markers (not absorbed by its stored summary), by what they ask for."""

    recompute: list = field(default_factory=list)  # plain: recompute from the orders
    confirmed: list = field(default_factory=list)  # "before" markers whose insert stored all
    unconfirmed: list = field(default_factory=list)  # "before" markers, insert unconfirmed
    confirmers: list = field(default_factory=list)  # "after" markers
    dropped: list = field(default_factory=list)  # unconfirmed, none of their orders ever stored

    def settle_unconfirmed(self) -> bool:
        """Settle the "before" markers unconfirmed for UNCONFIRMED_AFTER by their orders' ids
        (see the module docstring): those whose orders are all stored move to `confirmed`, those
        with none stored after PENDING_GRACE to `dropped`. False if the key must be recomputed
        from its orders (a "recompute" marker, some of a marker's orders stored, or too many)."""
        if self.recompute:
            return False
        now = datetime.now(UTC)
        stale = [m for m in self.unconfirmed if now - m["_id"].generation_time > UNCONFIRMED_AFTER]
        ids = [order for marker in stale for order in marker["orders"]]
        if len(ids) > UNCONFIRMED_SETTLE_MAX:
            return False
        stored = {doc["_id"] for doc in repository.find_each(ids, {"_id": 1})} if ids else set()
        for marker in stale:
            found = sum(order in stored for order in marker["orders"])
            if found == len(marker["orders"]) and "figures" in marker:
                self.unconfirmed.remove(marker)
                self.confirmed.append(marker)
            elif found:
                return False
            elif now - marker["_id"].generation_time > PENDING_GRACE:
                self.unconfirmed.remove(marker)
                self.dropped.append(marker)
        return True


def _pending(markers: list[dict], stored: dict | None) -> _Pending:
    absorbed = set(stored["absorbed"]) if stored else set()
    live = [marker for marker in markers if marker["_id"] not in absorbed]
    confirmed_ids = {marker["confirms"] for marker in live if "confirms" in marker}
    pending = _Pending()
    for marker in live:
        if "confirms" in marker:
            pending.confirmers.append(marker)
        elif "orders" not in marker:
            pending.recompute.append(marker)
        elif "figures" in marker and marker["_id"] in confirmed_ids:
            pending.confirmed.append(marker)
        else:
            pending.unconfirmed.append(marker)
    return pending


# A read adds the orders of at most this many unconfirmed markers' ids (inserts in flight, or
# whose writer died after inserting) by `_id`; more, and it summarises the key from its orders.
UNCONFIRMED_READ_MAX = 20


def _current(stored_of, markers_of, version_of, add, of_orders):
    """The key's exact summary from its stored one, its confirmed markers' figures and the
    visible orders of its unconfirmed markers (`of_orders(docs)`: their summary), or None when
    it must be read from its orders (see the module docstring)."""
    for _ in range(READ_ATTEMPTS):
        stored = stored_of()
        markers = markers_of()
        version = stored.get("v") if stored else None
        if version_of() != version:
            continue  # a refresh wrote meanwhile
        if stored is not None and version is None:
            return None  # stored before summaries absorbed markers
        pending = _pending(markers, stored)
        ids = [order for marker in pending.unconfirmed for order in marker["orders"]]
        if pending.recompute or len(ids) > UNCONFIRMED_READ_MAX:
            return None
        if any("figures" not in marker for marker in pending.unconfirmed):
            return None  # written by an older version
        # Named by no other marker (a retry writes "recompute" markers), so not in `stored`.
        visible = of_orders(repository.find_each(ids, ORDER_FIELDS)) if ids else None
        return add([stored, *(marker["figures"] for marker in pending.confirmed), visible])
    return None


def current_hour(hour: str, parts: Iterable[str] = HOUR_PARTS) -> dict | None:
    """The hour's exact summary now: its figures, whether every order carries its minute, and
    the given parts (of HOUR_PARTS), whether it is dirty or not (for a dirty hour: see the
    module docstring)."""
    parts = tuple(parts)
    projection = dict.fromkeys((*FIGURES, *parts), 1)
    found = _current(
        lambda: store.hour_state(hour, projection),
        lambda: store.hour_markers(hour),
        lambda: store.hour_version(hour),
        lambda summaries: add_hours(summaries, parts),
        hour_summary,
    )
    if found is None:
        return hour_summary(repository.find_hour(hour, ORDER_FIELDS))
    return found


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


def _absorb_confirmed(stored: dict | None, markers: list[dict], add):
    """A refresh without reading orders: (the new summary, or None if nothing was added; the
    markers it absorbs, all deleted once written), or None if the orders must be read."""
    if stored is not None and stored.get("v") is None:
        return None  # stored before summaries absorbed markers
    pending = _pending(markers, stored)
    if not pending.settle_unconfirmed():
        return None
    existing = {marker["_id"] for marker in markers}
    waiting = {marker["_id"] for marker in pending.unconfirmed}
    absorbed = [i for i in (stored["absorbed"] if stored else []) if i in existing]
    absorbed += [marker["_id"] for marker in [*pending.confirmed, *pending.dropped]]
    # Confirmers of markers absorbed here or before (those of unconfirmed ones do not exist).
    absorbed += [m["_id"] for m in pending.confirmers if m["confirms"] not in waiting]
    if not pending.confirmed:
        return None, absorbed
    return add([stored, *(marker["figures"] for marker in pending.confirmed)]), absorbed


def _from_orders(before: list[dict], docs: list[dict], after: list[dict]):
    """A recompute from the orders, given the markers read before and after them: (the orders
    it covers, the markers it absorbs). Markers stay (with their orders left out) if they are
    new since the first read, or name orders not all visible yet and are younger than
    PENDING_GRACE (an insert that failed or died); every other marker is absorbed."""
    now = datetime.now(UTC)
    seen_ids = {doc["_id"] for doc in docs}
    first = {marker["_id"] for marker in before}
    markers = {marker["_id"]: marker for marker in [*before, *after]}
    staying = set()
    for marker_id, marker in markers.items():
        if "confirms" in marker:
            continue
        incomplete = "orders" in marker and not seen_ids.issuperset(marker["orders"])
        if marker_id not in first or (
            incomplete and now - marker_id.generation_time <= PENDING_GRACE
        ):
            staying.add(marker_id)
    staying |= {i for i, m in markers.items() if m.get("confirms") in staying}
    left_out = {order for i in staying for order in markers[i].get("orders", [])}
    covered = [doc for doc in docs if doc["_id"] not in left_out]
    return covered, [i for i in markers if i not in staying]


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
        lambda: store.hour_docs(day, dict.fromkeys((*FIGURES, *PARTS), 1)).values(),
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
    """Write the summaries of some hours of one day, each under its lock: the confirmed
    markers' figures added to the stored summary, or (see _Pending.settle_unconfirmed)
    recomputed from the hour's orders. Returns (hour, markers to delete once the day is
    re-summed) of each hour done (a busy hour is skipped: its markers stay)."""
    with contextlib.ExitStack() as stack:
        locks = {}
        for hour in hours:  # sorted: two refreshers never wait on each other in a cycle
            try:
                locks[hour] = stack.enter_context(_locked("hour:" + hour))
            except SummaryBusy:
                logger.info("sales summary of hour %s busy; left for the next pass", hour)
        done, from_orders = [], []
        for hour, lock in locks.items():
            stored = store.hour_state(hour)
            plan = None
            # Orders without their minute make the hour read whole: the recompute gives it them.
            if stored is None or stored.get("minutes", False):
                plan = _absorb_confirmed(
                    stored,
                    store.hour_markers(hour),
                    lambda summaries: add_hours(summaries, HOUR_PARTS),
                )
            if plan is None:
                from_orders.append(hour)
            elif _write_locked(lock, store.write_hour, hour, *plan, dirty={"hours": [hour]}):
                done.append((hour, plan[1]))
        return done + _hours_from_orders(day, {hour: locks[hour] for hour in from_orders})


def _write_locked(lock, write, key, summary, absorbed, *, dirty) -> bool:
    """Write the sum of a key's summary and its confirmed markers under its lock (None: nothing
    was added, nothing to write). Returns whether the absorbed markers may be deleted."""
    if summary is None:
        return lock.owned()
    return _write_full(lock, write, key, summary, absorbed, dirty)


def _hours_from_orders(day: str, locks: dict) -> list[tuple[str, list]]:
    """Recompute some hours from their orders (the whole day in one query when many)."""
    if not locks:
        return []
    if len(locks) >= READ_DAY_FROM_HOURS:
        before = store.day_hour_markers(day)  # markers first, then the orders, then markers
        docs_by_hour: dict[str, list[dict]] = {}
        for doc in repository.find_day(day, {**ORDER_FIELDS, "hour": 1}):
            docs_by_hour.setdefault(store.order_hour(doc), []).append(doc)
        after = store.day_hour_markers(day)
    else:
        before = {hour: store.hour_markers(hour) for hour in locks}
        docs_by_hour = {hour: repository.find_hour(hour, ORDER_FIELDS) for hour in locks}
        after = {hour: store.hour_markers(hour) for hour in locks}
    for hour in locks:
        # Orders stored before they carried their minute (an old store, a restored backup) get
        # it, so the hour's summary says `minutes` and lists walk the hour minute by minute.
        added = repository.add_minutes(docs_by_hour.get(hour, []))
        if added:
            logger.info("%d orders of hour %s given their minute", added, hour)
    done = []
    for hour, lock in locks.items():
        covered, absorbed = _from_orders(
            before.get(hour, []), docs_by_hour.get(hour, []), after.get(hour, [])
        )
        summary = hour_summary(covered)
        if _write_full(lock, store.write_hour, hour, summary, absorbed, {"hours": [hour]}):
            done.append((hour, absorbed))
    return done


def _write_full(lock, write, key, summary, absorbed, dirty) -> bool:
    """Write a key's summary (None: delete it) under its lock: nothing if the lock was lost, a
    "recompute" marker if it was lost meanwhile (a newer summary may have been overwritten).
    Returns whether the absorbed markers may be deleted."""
    if not lock.owned():
        return False
    write(key, summary, absorbed)
    if not lock.owned():
        store.mark_dirty(**dirty)
        return False
    return True


def refresh_hours(hours: Iterable[str]) -> int:
    """Bring the given hours up to date (_recompute_hours), then re-sum their days (once per day),
    then their months, then delete the markers they absorbed (see the module docstring). A busy
    hour, day or month stays dirty. Returns how many hours were brought up to date."""
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
    """Bring one customer's summary up to date: its confirmed markers' figures added, or (see
    _Pending.settle_unconfirmed) recomputed from that customer's orders."""
    with _locked("customer:" + name) as lock:
        dirty = {"customers": [name]}
        plan = _absorb_confirmed(store.customer(name), store.customer_markers(name), add_customers)
        if plan is not None:
            if _write_locked(lock, store.write_customer, name, *plan, dirty=dirty):
                store.clear_markers({"customer": name}, plan[1])
            return
        before = store.customer_markers(name)
        docs = repository.find_customer(name, CUSTOMER_FIELDS)
        covered, absorbed = _from_orders(before, docs, store.customer_markers(name))
        summary = summarize_customer(covered)
        if _write_full(lock, store.write_customer, name, summary, absorbed, dirty):
            store.clear_markers({"customer": name}, absorbed)


def mark_everything_dirty() -> None:
    """Every hour and customer with orders or with a summary: recomputed from its orders on the
    next refresh ("recompute" markers; reads summarise them from the orders until then)."""
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
    if not store.customer_markers(name):
        return store.customer(name)  # markers first: the summary read after it covers all
    found = _current(
        lambda: store.customer(name),
        lambda: store.customer_markers(name),
        lambda: store.customer_version(name),
        add_customers,
        summarize_customer,
    )
    if found is None:
        return summarize_customer(repository.find_customer(name, CUSTOMER_FIELDS))
    return found


def refresh_all() -> int:
    """Bring every dirty hour and customer up to date (the worker, every few seconds; the
    rebuild; the bench after a bulk import). Returns how many hours and customers it did."""
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
