"""Reads of orders (selectors): no writes, no request objects.

Lists walk newest-first units of exact counts and read a unit's orders only when the page lands
in it: days (by `day` equality), a busy day hour by hour (`hour`), a busy hour minute by minute
(`minute`), so a page costs about a minute's orders, not a whole busy hour's. The counts come from
the sales summaries: the stored days and hours, a dirty hour's exact summary now
(summaries.current_hour, once per dirty hour and request), a busy hour's minutes from its 60
per-minute counts, and the window's first hour from the hour's moments. Days with dirty hours,
and the window's first day, are counted hour by hour. An hour whose orders do not all carry
their `minute` (stored before it), and any busy hour in an export, is read whole. A customer's
list reads that customer's orders by `customer` equality. Nothing sorts or counts all the orders.
"""

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shopsite.timeutil import day_key, hour_key, minute_key, parse_iso, utcnow

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
# orders, not a whole busy day's) ...
HOUR_WALK_ABOVE = 100
# ... and an hour with more than this minute by minute, if all its orders carry their `minute`.
MINUTE_WALK_ABOVE = 100


@dataclass
class _Unit:
    """A day, an hour or a minute of orders in a newest-first walk: its key, its exact count,
    and its orders once read (newest first). A big day is expanded into its hours, and a big
    hour into its minutes, when a page lands in it."""

    key: str
    count: int
    docs: list[dict] | None = None
    since: datetime | None = None  # counted only from here (the window's first hour, minute)
    minutes: bool = False  # an hour whose orders all carry their `minute`
    moments: list | None = None  # an hour's moments, when already read (figures.moments)
    per_minute: list | None = None  # an hour's orders per minute, when already read

    def parts(self, dirty: set[str]) -> list["_Unit"] | None:
        """The hours of a big day, or the minutes of a big hour; None if read whole."""
        if self.docs is not None:
            return None
        if len(self.key) == 10 and self.count > HOUR_WALK_ABOVE:
            return _hour_units(self.key, dirty)
        if len(self.key) == 13 and self.minutes and self.count > MINUTE_WALK_ABOVE:
            if self.moments is not None:  # read already (the window's first hour, say)
                return _minute_units(self.key, self.moments, self.since)
            counts = self.per_minute or _stored_minute_counts(self.key)
            if counts is not None:
                return _counted_minute_units(self.key, counts)
        return None

    def orders(self) -> list[dict]:
        if self.docs is not None:
            return self.docs
        find = {10: repository.find_day, 13: repository.find_hour, 16: repository.find_minute}
        # Not kept: an export holds one unit's orders at a time.
        return _newest_first(find[len(self.key)](self.key), self.since)


def _newest_first(docs: list[dict], since: datetime | None) -> list[dict]:
    if since is not None:
        docs = [doc for doc in docs if doc["created_at"] >= since]
    return repository.newest_first(docs)


def _stored_minute_counts(hour: str) -> list | None:
    """A clean hour's stored orders per minute (from its moments if stored before it kept
    them), None if it has neither now."""
    stored = summary_store.hour_state(hour, {"per_minute": 1})
    if stored is not None and stored.get("per_minute") is None:
        stored = summary_store.hour_state(hour, {"moments": 1})
    return figures.minute_counts(stored) if stored is not None else None


def _dirty_hour(hour: str, since: datetime | None) -> _Unit:
    """A dirty hour counted from its exact summary now (at or after `since`), with its counts
    per minute kept for its minutes: the window's first hour from its moments, any other from
    its per-minute counts (60 numbers, not a moment per order)."""
    if since is None:
        now = summaries.current_hour(hour, parts=("per_minute",))
        if now is None:
            return _Unit(hour, 0)
        if now["per_minute"] is not None:
            per_minute, minutes = now["per_minute"], now.get("minutes", False)
            return _Unit(hour, now["orders"], minutes=minutes, per_minute=per_minute)
    now = summaries.current_hour(hour, parts=("moments",))  # stored before it kept the counts
    if now is None:
        return _Unit(hour, 0)
    moments = now["moments"]
    count = now["orders"] if since is None else figures.count_between(moments, since, None)
    return _Unit(hour, count, since=since, minutes=now.get("minutes", False), moments=moments)


def _hour_units(day: str, dirty: set[str], since: datetime | None = None) -> list[_Unit]:
    """The day's hours with orders, newest first (those at or after `since`): counts from the
    stored hour summaries (the hour `since` falls in from its stored moments, or its orders if
    it was stored without them), dirty hours from their exact summaries now."""
    first = hour_key(since) if since is not None else ""
    projection = {"orders": 1, "minutes": 1}
    if first[:10] == day:
        projection["moments"] = 1  # the first hour's (a day's hours come in one read)
    stored = summary_store.hour_docs(day, projection)
    units = []
    for hour in sorted(set(stored) | {h for h in dirty if h[:10] == day}, reverse=True):
        if hour < first:
            continue
        edge = since if hour == first else None
        if hour in dirty:
            unit = _dirty_hour(hour, edge)
        elif edge is not None and "moments" not in stored[hour]:
            docs = _newest_first(repository.find_hour(hour), since)
            unit = _Unit(hour, len(docs), docs)
        elif edge is not None:
            moments = stored[hour]["moments"]
            count = figures.count_between(moments, since, None)
            minutes = stored[hour].get("minutes", False)
            unit = _Unit(hour, count, since=since, minutes=minutes, moments=moments)
        else:
            unit = _Unit(hour, stored[hour]["orders"], minutes=stored[hour].get("minutes", False))
        if unit.count:
            units.append(unit)
    return units


def _minute_units(hour: str, moments: list, since: datetime | None) -> list[_Unit]:
    """The hour's minutes with orders, newest first (from the minute `since` falls in, which is
    counted and read from `since` on), counted from the hour's moments."""
    start = parse_iso(f"{hour}:00")
    units = []
    for minute in reversed(range(60)):
        begin = start + timedelta(minutes=minute)
        end = begin + timedelta(minutes=1)
        if since is not None and end <= since:
            break
        edge = since if since is not None and since > begin else None
        count = figures.count_between(moments, edge or begin, end)
        if count:
            units.append(_Unit(minute_key(begin), count, since=edge))
    return units


def _counted_minute_units(hour: str, per_minute: list) -> list[_Unit]:
    """The hour's minutes with orders, newest first, from its orders per minute."""
    start = parse_iso(f"{hour}:00")
    return [
        _Unit(minute_key(start + timedelta(minutes=minute)), per_minute[minute])
        for minute in reversed(range(60))
        if per_minute[minute]
    ]


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


def _walk(units: Iterable[_Unit], dirty: set[str], skip: int = 0, *, page: bool = True):
    """The orders of the units newest first from position `skip`, jumping over whole units. A
    page expands big days and hours; an export (page=False) reads a busy hour whole (one read,
    not sixty)."""
    for unit in units:
        if skip >= unit.count:
            skip -= unit.count
            continue
        parts = unit.parts(dirty) if page or len(unit.key) == 10 else None
        if parts is not None:
            yield from _walk(parts, dirty, skip, page=page)
        else:
            yield from unit.orders()[skip:]
        skip = 0


def orders_recent(*, limit: int = 100) -> list[dict]:
    """The `limit` newest orders: the newest days' (busy days' hours', busy hours' minutes')
    orders until enough."""
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

    def iterate(self, skip: int = 0, *, page: bool = True) -> Iterator[dict]:
        """The orders newest first from position `skip` (page=False: every one, see _walk)."""
        return _walk(self.units, self.dirty, skip, page=page)


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
    yield from _window(days, customer).iterate(page=False)


def orders_sold_totals(*, start: datetime, end: datetime) -> dict:
    """Orders, units and revenue in [start, end) (the summaries plus the edge days)."""
    return stats.sold_totals(start, end)


def customer_stats(*, name: str) -> dict:
    """Totals over all of one customer's orders; CustomerNotFound if there are none."""
    totals = stats.customer_totals(name)
    if totals is None:
        raise CustomerNotFound(name)
    return totals
