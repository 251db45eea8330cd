"""Reads of orders (selectors): no writes, no request objects.

Lists walk the days newest first, reading each day's orders by `day` equality, or a busy day's
hour by hour (`hour` equality); the per-day and per-hour counts of the sales summaries give the
totals and let a page skip whole days and hours. Days with dirty hours, and the window's first
day, are counted hour by hour (dirty hours by reading them, the window's first hour from its
stored moments). A customer's list reads that
customer's orders by `customer` equality. Nothing sorts or counts all the orders.
"""

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shopsite.timeutil import day_key, hour_key, utcnow

from . import figures, repository, stats, summaries
from . import summary_repository as summary_store
from .exceptions import CustomerNotFound, OrderNotFound


def order_get(*, order_id) -> dict:
    oid = repository.parse_id(order_id)
    doc = repository.find_by_id(oid) if oid is not None else None
    if doc is None:
        raise OrderNotFound(order_id)
    return doc


def _last_month() -> str:
    # Orders may be stamped a few seconds ahead of this clock (the accepted skew).
    return day_key(utcnow() + timedelta(days=1))[:7]


# A day with more orders than this is read hour by hour (a page then costs about an hour's
# orders, not a whole busy day's).
HOUR_WALK_ABOVE = 100


@dataclass
class _Unit:
    """A day or an hour of orders in a newest-first walk: its key, its exact count, and its
    orders once read (newest first). A big day is expanded into its hours when reached."""

    key: str
    count: int
    docs: list[dict] | None = None
    since: datetime | None = None  # an hour counted only from here (the window's first)

    def is_big_day(self) -> bool:
        return len(self.key) == 10 and self.count > HOUR_WALK_ABOVE and self.docs is None

    def orders(self) -> list[dict]:
        if self.docs is not None:
            return self.docs
        find = repository.find_day if len(self.key) == 10 else repository.find_hour
        # Not kept: an export holds one unit's orders at a time.
        return _newest_first(find(self.key), self.since)


def _newest_first(docs: list[dict], since: datetime | None) -> list[dict]:
    if since is not None:
        docs = [doc for doc in docs if doc["created_at"] >= since]
    return repository.newest_first(docs)


def _hour_units(day: str, dirty: set[str], since: datetime | None = None) -> list[_Unit]:
    """The day's hours with orders, newest first (those at or after `since`): counts from the
    stored hour summaries (the hour `since` falls in from its stored moments); dirty hours, and
    a first hour stored without moments, read and counted."""
    first = hour_key(since) if since is not None else ""
    stored = summary_store.hour_docs(day, {"orders": 1, "moments": 1} if first else {"orders": 1})
    units = []
    for hour in sorted(set(stored) | {h for h in dirty if h[:10] == day}, reverse=True):
        if hour < first:
            continue
        if hour in dirty or (hour == first and "moments" not in stored[hour]):
            docs = _newest_first(repository.find_hour(hour), since)
            units.append(_Unit(hour, len(docs), docs))
        elif hour == first:
            count = figures.count_between(stored[hour]["moments"], since, None)
            units.append(_Unit(hour, count, since=since))
        else:
            units.append(_Unit(hour, stored[hour]["orders"]))
    return [unit for unit in units if unit.count]


def _day_units(days: Iterator[tuple[str, int]], dirty: set[str], since: datetime | None):
    """Units newest first from stored (day, count) pairs (newest first), with dirty days (and the
    day `since` falls in) walked hour by hour, since their stored counts may be stale."""
    first = day_key(since) if since is not None else ""
    pending = sorted({hour[:10] for hour in dirty if hour[:10] >= first}, reverse=True)
    for day, count in days:
        while pending and pending[0] > day:
            yield from _hour_units(pending.pop(0), dirty, since)
        if pending and pending[0] == day:
            pending.pop(0)
            yield from _hour_units(day, dirty, since)
        elif day == first:
            yield from _hour_units(day, dirty, since)
        else:
            yield _Unit(day, count)
    for day in pending:
        yield from _hour_units(day, dirty, since)


def _walk(units: Iterable[_Unit], dirty: set[str], skip: int = 0) -> Iterator[dict]:
    """The orders of the units newest first from position `skip`, jumping over whole units."""
    for unit in units:
        if skip >= unit.count:
            skip -= unit.count
            continue
        if unit.is_big_day():
            yield from _walk(_hour_units(unit.key, dirty), dirty, skip)
        else:
            yield from unit.orders()[skip:]
        skip = 0


def orders_recent(*, limit: int = 100) -> list[dict]:
    """The `limit` newest orders: the newest days' (or busy days' hours') orders until enough."""
    dirty = summaries.dirty_hours()
    days = summary_store.day_counts_newest_first(_last_month())
    return list(itertools.islice(_walk(_day_units(days, dirty, None), dirty), limit))


@dataclass
class _Window:
    """The orders since a moment, as newest-first units of exact counts."""

    since: datetime
    customer: str | None
    units: list[_Unit] = field(default_factory=list)
    dirty: set[str] = field(default_factory=set)

    def __post_init__(self):
        if self.customer is not None:
            # One customer's orders, by equality: no summaries needed.
            docs = _newest_first(repository.find_customer(self.customer), self.since)
            self.units = [_Unit("", len(docs), docs)]
            return
        self.dirty = summaries.dirty_hours()  # first: summaries read after it are as new
        days = summary_store.day_counts_from(day_key(self.since), _last_month())
        self.units = list(_day_units(iter(days), self.dirty, self.since))

    @property
    def count(self) -> int:
        return sum(unit.count for unit in self.units)

    def iterate(self, skip: int = 0) -> Iterator[dict]:
        """The orders newest first from position `skip`."""
        return _walk(self.units, self.dirty, skip)


def _window(days: int, customer: str | None) -> _Window:
    return _Window(since=utcnow() - timedelta(days=days), customer=customer)


def orders_count_since(*, days: int, customer: str | None = None) -> int:
    return _window(days, customer).count


def orders_list_since(
    *, days: int, customer: str | None = None, skip: int = 0, limit: int = 50
) -> list[dict]:
    """Orders of the last `days` days, newest first, one page."""
    return orders_page_since(days=days, customer=customer, skip=skip, limit=limit)[1]


def orders_page_since(
    *, days: int, customer: str | None = None, skip: int = 0, limit: int = 50
) -> tuple[int, list[dict]]:
    """(count, one page): both from one walk of the days."""
    window = _window(days, customer)
    return window.count, list(itertools.islice(window.iterate(skip), limit))


def orders_iter_since(*, days: int, customer: str | None = None) -> Iterator[dict]:
    """Every order of the last `days` days, newest first, a day at a time (for exports)."""
    yield from _window(days, customer).iterate()


def orders_sold_totals(*, start: datetime, end: datetime) -> dict:
    """Orders, units and revenue in [start, end) (the summaries plus the edge days)."""
    return stats.sold_totals(start, end)


def customer_stats(*, name: str) -> dict:
    """Totals over all of one customer's orders; CustomerNotFound if there are none."""
    totals = stats.customer_totals(name)
    if totals is None:
        raise CustomerNotFound(name)
    return totals
