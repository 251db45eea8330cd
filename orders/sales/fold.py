"""Folding the ledger into the summaries, rebuilding them from the orders, and verifying them.

The protocol (why each step keeps every figure exact) is docs/sales-summaries.md; in short, one
pass at a time (a Redis lock): take pass number k, stamp the entries no pass has taken with k,
add each entry (and those of passes that died) to every summary it touches whose `pass` is below
the entry's, write those summaries with `pass` k, record k as done.
"""

import contextlib
import logging
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta

from bson import ObjectId
from django.conf import settings
from redis.exceptions import LockError, RedisError

from shopsite.errors import BackendUnavailable
from shopsite.redis_client import get_redis
from shopsite.timeutil import shop_zone, utcnow

from .. import repository
from . import store
from .figures import (
    CUSTOMER,
    LINE_PARTS,
    add_into,
    close_summary,
    entry_effects,
    in_order,
    open_summary,
    order_effects,
)

logger = logging.getLogger(__name__)

LOCK_KEY = "sales-fold-lock"
LAYOUT = store.LAYOUT
# Orders whose ids are this recent are remembered by a rebuild's scan: their purchases may be
# in flight (a purchase older than this has been stored or undone by the recovery).
IN_FLIGHT = timedelta(minutes=10)
# A rebuild writes this many summaries per command, and checks its lock this often.
REBUILD_BATCH = 500


class PassLost(BackendUnavailable):
    """Another pass started while this one ran (its lock expired): this one stops writing."""

    def __init__(self):
        super().__init__("mongodb", "sales fold pass overtaken")


def is_current(state: dict) -> bool:
    """Whether the stored summaries are built, in this layout and the configured time zone."""
    return state.get("layout") == LAYOUT and state.get("time_zone") == settings.SHOP_TIME_ZONE


@contextlib.contextmanager
def _pass_lock(wait: float) -> Iterator:
    """The one pass lock, or None after `wait` seconds."""
    lock = get_redis().lock(
        LOCK_KEY, timeout=settings.SALES_FOLD_LOCK_SECONDS, blocking_timeout=wait, sleep=0.02
    )
    held = lock.acquire()
    try:
        yield lock if held else None
    finally:
        if held:
            with contextlib.suppress(LockError, RedisError):  # expired: it is gone anyway
                lock.release()


def fold(*, wait: float = 0.0) -> int:
    """One pass over the unfolded entries; returns how many it folded (0 when another pass holds
    the lock for longer than `wait` seconds: that one folds them). A store not built in this
    layout and zone is rebuilt instead (returns how many orders that read)."""
    with _pass_lock(wait) as lock:
        if lock is None:
            return 0
        state = store.state()
        if not is_current(state):
            return _rebuild(state, lock)
        entries = store.unfolded()
        for taken in range(state["done"] + 1, state["next"]):  # passes that died: fold again
            entries += store.folded_in(taken)
        if not entries:
            return 0
        number = state["next"]
        store.set_state(next=number + 1)
        store.stamp([e["_id"] for e in entries if not e.get("pass")], number, utcnow())
        for entry in entries:
            entry["pass"] = entry.get("pass") or number
        _write(_fold_entries(entries), number, lock, entries)
        store.set_state(done=number)
        return len(entries)


def _fold_entries(entries: list[dict]) -> dict[tuple[str, str], list[tuple[int, dict]]]:
    """(kind, key) -> [(entry's pass, delta)] of the entries' effects."""
    zone = shop_zone()
    touched = defaultdict(list)
    for entry in in_order(entries):
        for effect in entry_effects(entry, zone):
            touched[(effect.kind, effect.key)].append((entry["pass"], effect.delta))
    return touched


def _write(touched, number: int, lock, entries: list[dict]) -> None:
    """Add each delta to its stored summary unless that one already holds it (its pass is not
    below the entry's), and write it with this pass's number."""
    for count, ((kind, key), deltas) in enumerate(sorted(touched.items())):
        if count % 50 == 0:
            _check_still_ours(number, lock)
        stored = store.get(kind, key)
        have = stored.get("pass", 0) if stored else 0
        fresh = [delta for entry_pass, delta in deltas if have < entry_pass]
        if not fresh:
            continue
        summary = open_summary(kind, stored)
        for delta in fresh:
            add_into(kind, summary, delta)
        summary = close_summary(kind, summary)
        if kind == CUSTOMER and summary.pop("stale_times", False):
            summary = customer_times(key, summary, cancelled_ids(entries))
        summary["pass"] = number
        store.put(kind, key, summary)
    _check_still_ours(number, lock)


def _check_still_ours(number: int, lock) -> None:
    """Stop unless this pass still holds the lock and is the last one started; and keep the
    lock for another SALES_FOLD_LOCK_SECONDS (a long rebuild outlives one lease)."""
    if not lock.owned() or store.state()["next"] != number + 1:
        raise PassLost()
    try:
        lock.extend(settings.SALES_FOLD_LOCK_SECONDS, replace_ttl=True)
    except LockError as exc:  # expired between the two calls
        raise PassLost() from exc


def cancelled_ids(entries: list[dict]) -> set:
    return {e["order"]["_id"] for e in entries if e.get("status") == "cancelled"}


def customer_times(name: str, summary: dict, cancelled: set) -> dict:
    """First and last order times found again from the customer's orders (a cancelled order was
    one of them), leaving out cancelled ones and those being cancelled (`cancelled` ids)."""
    times = [
        doc["created_at"]
        for doc in repository.find_customer(name, {"created_at": 1, "status": 1})
        if doc.get("status") != "cancelled" and doc["_id"] not in cancelled
    ]
    summary["first_order_at"] = min(times) if times else None
    summary["last_order_at"] = max(times) if times else None
    return summary


# --- rebuild -------------------------------------------------------------------------------------


def rebuild(*, wait: float | None = None) -> int:
    """Every summary recomputed from the orders and the ledger, in the configured time zone (reads
    answer 503 meanwhile). Returns how many orders it read."""
    wait = settings.SALES_FOLD_LOCK_SECONDS if wait is None else wait
    with _pass_lock(wait) as lock:
        if lock is None:
            raise BackendUnavailable("mongodb", "sales summaries busy")
        return _rebuild(store.state(), lock)


def invalidate() -> None:
    """The orders were replaced behind the ledger's back (a restore): forget the ledger and have
    the summaries rebuilt from the orders (by the worker, refresh_summaries, or rebuild)."""
    store.clear_ledger()
    store.set_state(layout=None)


def _rebuild(state: dict, lock) -> int:
    logger.info("sales summaries: rebuilding from the orders (%s)", settings.SHOP_TIME_ZONE)
    number = state.get("next", 1)
    store.set_state(next=number + 1, layout=None)
    pending_orders = {o["_id"] for e in store.all_entries() for o in e.get("orders", [])}
    expected, seen, read = summaries_from_orders(
        pending_orders, add_keys=True, every=lambda: _check_still_ours(number, lock)
    )
    entries = list(store.all_entries())
    _add_unseen(expected, seen, entries)
    _check_still_ours(number, lock)
    store.wipe()
    batch = []
    for (kind, key), summary in sorted(expected.items()):
        summary = close_summary(kind, summary)
        if kind == CUSTOMER and summary.pop("stale_times", False):
            summary = customer_times(key, summary, set())
        summary["pass"] = number
        batch.append((kind, key, summary))
        if len(batch) == REBUILD_BATCH:
            _check_still_ours(number, lock)
            store.insert_all(batch)  # the summaries were wiped: inserts, many per command
            batch = []
    _check_still_ours(number, lock)
    store.insert_all(batch)
    _check_still_ours(number, lock)
    store.stamp([entry["_id"] for entry in entries if not entry.get("pass")], number, utcnow())
    store.set_state(done=number, layout=LAYOUT, time_zone=settings.SHOP_TIME_ZONE)
    logger.info("sales summaries: rebuilt from %d orders", read)
    return read


def summaries_from_orders(
    track: set, *, add_keys: bool = False, every=lambda: None
) -> tuple[dict, dict, int]:
    """Every summary of the stored orders as they are (statuses included): ({(kind, key):
    opened summary}, {order id: status} of the orders in `track`, recent ones, and those not placed;
    how many orders). `add_keys`: give orders stored without their time keys those keys;
    `every()` runs every REBUILD_BATCH orders (the rebuild keeps its lock)."""
    zone = shop_zone()
    expected: dict[tuple[str, str], dict] = {}
    seen: dict[ObjectId, str] = {}
    horizon = utcnow() - IN_FLIGHT
    read = 0
    for order in repository.scan_all():
        read += 1
        if read % REBUILD_BATCH == 0:
            every()
        if add_keys and "minute" not in order:
            repository.add_time_keys(order)
        status = order.get("status", "placed")
        if status != "placed" or order["_id"] in track or order["_id"].generation_time > horizon:
            seen[order["_id"]] = status
        for effect in _order_as_is(order, status, zone):
            _add_to(expected, effect)
    return expected, seen, read


def _order_as_is(order: dict, status: str, zone):
    """An order's effects as stored: placed, then its status (a cancelled order's customer
    figures are left out altogether, so first and last times need no search)."""
    for effect in order_effects(order, "placed", zone):
        if not (status == "cancelled" and effect.kind == CUSTOMER):
            yield effect
    if status != "placed":
        for effect in order_effects(order, status, zone):
            if effect.kind != CUSTOMER:
                yield effect


def _add_unseen(expected: dict, seen: dict, entries: list[dict]) -> None:
    """Add what the ledger holds that the scan of the orders did not see: orders of purchases
    stored after the scan passed, status changes applied after it (the ledger entry is always
    written before the orders change: docs/sales-summaries.md)."""
    zone = shop_zone()
    for entry in entries:
        if entry.get("outcome") == "commit":
            effects = [
                effect
                for order in entry["orders"]
                if order["_id"] not in seen
                for effect in order_effects(order, "placed", zone)
            ]
        elif entry.get("status") in ("cancelled", "fulfilled"):
            if seen.get(entry["order"]["_id"], "placed") == entry["status"]:
                continue
            effects = list(entry_effects(entry, zone))
        else:
            continue
        for effect in effects:
            _add_to(expected, effect)


def _add_to(opened: dict, effect) -> None:
    """Add an effect to a map of opened summaries (figures.open_summary)."""
    key = (effect.kind, effect.key)
    if key not in opened:
        opened[key] = open_summary(effect.kind, None)
    add_into(effect.kind, opened[key], effect.delta)


def verify() -> list[str]:
    """What differs between the stored summaries and the orders (after a fold of the ledger).
    Entries of purchases still in flight show as differences: run it on a quiet store."""
    fold(wait=settings.SALES_FOLD_LOCK_SECONDS)
    opened, _, _ = summaries_from_orders(set())
    expected = {key: close_summary(key[0], summary) for key, summary in opened.items()}
    differences = []
    for kind, (where, prefix) in store.PLACES.items():
        stored = {
            doc["_id"][len(prefix) :]: doc
            for doc in where.collection().find({"_id": {"$regex": "^" + prefix}} if prefix else {})
        }
        wanted = {key: doc for (k, key), doc in expected.items() if k == kind}
        for key in sorted(set(stored) | set(wanted)):
            have, want = _comparable(kind, stored.get(key)), _comparable(kind, wanted.get(key))
            if have != want:
                differences.append(f"{kind} {key}: stored {have}, from the orders {want}")
    return differences


def _comparable(kind: str, doc: dict | None):
    """A summary without its storage fields; None when it sums to nothing (all its orders
    cancelled is as good as none)."""
    if doc is None:
        return None
    kept = {
        name: value
        for name, value in doc.items()
        if name not in ("_id", "pass", "day", "month", "year", "group")
    }
    for part in ("products", "categories", "customers"):
        if part in kept:
            kept[part] = sorted(
                tuple(sorted((k, v) for k, v in row.items() if k not in ("last_at", "last_id")))
                for row in kept[part]
            )
    if kind in LINE_PARTS:
        empty = not any(kept.get(part) for part in LINE_PARTS[kind])
    else:
        empty = not kept.get("orders") and not kept.get("listed")
    return None if empty else kept
