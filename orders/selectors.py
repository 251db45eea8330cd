"""Reads of orders (selectors): no writes, no request objects.

Lists walk newest first through units with exact counts from the sales module (orders.sales):
the shop's days, then a day's UTC hours, then a busy hour's minutes, and read a unit's orders
(by `hour` or `minute` equality) only when the page lands in it, so a page costs about a
minute's orders, not a day's. A customer's list reads that customer's orders by `customer`
equality. Nothing sorts or counts all the orders.
"""

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from shopsite.timeutil import as_utc, minute_key, parse_iso, shop_zone, utcnow

from . import repository, sales
from .exceptions import CustomerNotFound, OrderNotFound

STATUSES = ("placed", "fulfilled", "cancelled")
# An hour with more orders than this is walked minute by minute (a page then reads a minute).
MINUTE_WALK_ABOVE = 100
# A shop day with at most this many orders (and its neighbours, off UTC) is read whole by `day`.
SMALL_DAY = 100
ONE_DAY = timedelta(days=1)
ONE_HOUR = timedelta(hours=1)
ONE_MINUTE = timedelta(minutes=1)
# orders_recent looks this many days back at most (reading a month's day counts at a time).
RECENT_DAYS_MAX = 3650


def order_get(*, order_id) -> dict:
    oid = repository.parse_id(order_id)
    doc = repository.find_by_id(oid) if oid is not None else None
    if doc is None:
        raise OrderNotFound(order_id)
    return doc


def order_status(doc: dict) -> str:
    """Orders stored before they had a status are placed."""
    return doc.get("status", "placed")


def _count(doc: dict | None, status: str | None) -> int:
    if not doc:
        return 0
    if status is None:
        return doc.get("listed", 0)
    if status == "placed":
        return doc.get("listed", 0) - doc.get("fulfilled", 0) - doc.get("cancelled", 0)
    return doc.get(status, 0)


@dataclass
class _Slice:
    """A slice of time of orders: a shop day, a UTC hour or a UTC minute, [a, b), with its exact
    count (`status`: of that status only)."""

    kind: str  # "day", "hour", "minute"
    key: str
    a: datetime
    b: datetime
    count: int
    status: str | None
    counts: sales.ListCounts
    per_minute: list | None = None

    def parts(self) -> list["_Slice"] | None:
        if self.kind == "day" and not self._small():
            return _hour_units(self.a, self.b, self.status, self.counts)
        if self.kind == "hour" and self.per_minute and self.count > MINUTE_WALK_ABOVE:
            return _minute_units(self.key, self.a, self.b, self.per_minute, self.counts)
        return None

    def _small(self) -> bool:
        """A day read whole by the UTC `day`s it meets: few orders in it and, where the shop's
        day is not a UTC day, in the days either side (they share those UTC days)."""
        if self.count > SMALL_DAY:
            return False
        if self.a.hour == self.a.minute == 0 and self.b - self.a == ONE_DAY:
            return True
        day = date.fromisoformat(self.key)
        around = [self.counts.day(day + timedelta(days=n)) for n in (-1, 1)]
        return sum(_count(doc, None) for doc in around) <= 2 * SMALL_DAY

    def _utc_days(self, key: str) -> list[dict]:
        last = (self.b - timedelta(microseconds=1)).date()
        days = [self.a.date() + timedelta(days=n) for n in range((last - self.a.date()).days + 1)]
        return [doc for day in days for doc in repository.find_day(day.isoformat())]

    def orders(self) -> list[dict]:
        find = {
            "day": self._utc_days,
            "hour": repository.find_hour,
            "minute": repository.find_minute,
        }[self.kind]
        docs = [
            doc for doc in find(self.key)
            if self.a <= as_utc(doc["created_at"]) < self.b
            and (self.status is None or order_status(doc) == self.status)
        ]  # fmt: skip
        return repository.newest_first(docs)


def _day_units(since: datetime, status: str | None, counts) -> Iterator[_Slice]:
    """The shop's days from today back to the one `since` falls in, newest first, their counts
    read a month at a time as the walk reaches them."""
    zone = shop_zone()
    today = utcnow().astimezone(zone).date()
    first = as_utc(since).astimezone(zone).date()
    day = today + timedelta(days=1)  # orders may be stamped a little ahead of this clock
    while day >= first:
        a, b = max(sales.day_start(day), since), sales.day_start(day + timedelta(days=1))
        count = _count(counts.day(day), status)
        if count and a > sales.day_start(day):  # the first, cut by `since`: hour by hour
            count = sum(unit.count for unit in _hour_units(a, b, status, counts))
        if count:
            yield _Slice("day", day.isoformat(), a, b, count, status, counts)
        day -= timedelta(days=1)


def _hour_units(a: datetime, b: datetime, status: str | None, counts) -> list[_Slice]:
    """The UTC hours in [a, b) (part of a shop day), newest first; an hour cut by a or b (a day
    that begins on a half hour, or `since`) is counted from its minutes."""
    units = []
    cursor = a.replace(minute=0, second=0, microsecond=0)
    starts = []
    while cursor < b:
        starts.append(cursor)
        cursor += ONE_HOUR
    for begins in reversed(starts):
        key = begins.strftime("%Y-%m-%dT%H")
        doc = counts.hours(key[:10]).get(key)
        lo, hi = max(a, begins), min(b, begins + ONE_HOUR)
        per_minute = (doc or {}).get("per_minute")
        if not doc:
            continue
        if lo == begins and hi == begins + ONE_HOUR:
            count = _count(doc, status)
        elif status is None and per_minute:
            count = sum(u.count for u in _minute_units(key, lo, hi, per_minute, counts))
        else:
            count = len(_Slice("hour", key, lo, hi, 0, status, counts).orders())
        if count:
            units.append(_Slice("hour", key, lo, hi, count, status, counts, per_minute))
    return units


def _minute_units(hour: str, a: datetime, b: datetime, per_minute: list, counts) -> list[_Slice]:
    begins = parse_iso(hour + ":00")
    units = []
    for minute in reversed(range(60)):
        lo = begins + minute * ONE_MINUTE
        hi = lo + ONE_MINUTE
        if hi <= a or lo >= b or not per_minute[minute]:
            continue
        key = minute_key(lo)
        if a <= lo and hi <= b:
            units.append(_Slice("minute", key, lo, hi, per_minute[minute], None, counts))
        else:  # cut by `since`
            cut = _Slice("minute", key, max(a, lo), min(b, hi), 0, None, counts)
            cut.count = len(cut.orders())
            if cut.count:
                units.append(cut)
    return units


def _walk(units, skip: int = 0, *, page: bool = True) -> Iterator[dict]:
    """The orders of the units newest first from position `skip`, jumping over whole units. An
    export (page=False) reads a busy hour whole (one read, not sixty)."""
    for unit in units:
        if skip >= unit.count:
            skip -= unit.count
            continue
        parts = unit.parts() if page or unit.kind == "day" else None
        if parts is not None:
            yield from _walk(parts, skip, page=page)
        else:
            yield from unit.orders()[skip:]
        skip = 0


def orders_recent(*, limit: int = 100) -> list[dict]:
    """The `limit` newest orders: the days walked newest first until enough."""
    window = _Window(utcnow() - timedelta(days=RECENT_DAYS_MAX), None, None, count=False)
    return list(itertools.islice(window.iterate(), limit))


class _Window:
    """The orders since a moment (optionally one customer's, one status), newest first."""

    def __init__(
        self, since: datetime, customer: str | None, status: str | None, *, count: bool = True
    ):
        self.customer, self.status = customer, status
        if customer is not None:
            docs = [
                doc for doc in repository.find_customer(customer)
                if as_utc(doc["created_at"]) >= since
                and (status is None or order_status(doc) == status)
            ]  # fmt: skip
            self.docs = repository.newest_first(docs)
            self.units = None
            return
        units = _day_units(since, status, sales.ListCounts())
        self.units = list(units) if count else units  # a generator: read as far as needed

    @property
    def count(self) -> int:
        return len(self.docs) if self.units is None else sum(u.count for u in self.units)

    def iterate(self, skip: int = 0, *, page: bool = True) -> Iterator[dict]:
        if self.units is None:
            return iter(self.docs[skip:])
        return _walk(self.units, skip, page=page)


def _window(days: int, customer: str | None, status: str | None) -> _Window:
    return _Window(utcnow() - timedelta(days=days), customer, status)


def orders_count_since(*, days: int, customer: str | None = None, status=None) -> int:
    return _window(days, customer, status).count


def orders_list_since(
    *, days: int, customer: str | None = None, status=None, skip: int = 0, limit: int = 50
) -> list[dict]:
    """Orders of the last `days` days, newest first, one page."""
    return orders_page_since(days=days, customer=customer, status=status, skip=skip, limit=limit)[1]


def orders_page_since(
    *, days: int, customer: str | None = None, status=None, skip: int = 0, limit: int = 50
) -> tuple[int, list[dict]]:
    """(count, one page): both from one walk of the days."""
    window = _window(days, customer, status)
    return window.count, list(itertools.islice(window.iterate(skip), limit))


def orders_iter_since(
    *, days: int, customer: str | None = None, status=None, sort: str | None = None
) -> Iterator[dict]:
    """Every order of the last `days` days in `sort` order (for exports): newest first (the
    default) an hour at a time, any other order from orders_sorted_since, 500 orders a read."""
    if sort in (None, ORDER_SORT_DEFAULT):
        yield from _window(days, customer, status).iterate(page=False)
        return
    count, fetch = orders_sorted_since(days=days, customer=customer, status=status, sort=sort)
    for skip in range(0, count, 500):
        yield from fetch(skip, 500)


def orders_waiting_count() -> int:
    """Orders of the last 30 days still to be fulfilled (the home page)."""
    return _window(30, None, "placed").count


def orders_sold_totals(*, start: datetime, end: datetime | None) -> dict:
    """Orders, units and revenue in [start, end) (cancelled orders are not sales; no end: up to
    the moment of reading)."""
    totals = sales.window(start, end, lines=()).totals
    return {
        "total_quantity": totals["quantity"],
        "orders": totals["orders"],
        "revenue_cents": totals["revenue_cents"],
    }


def customer_stats(*, name: str) -> dict:
    """Totals over all of one customer's orders that are not cancelled; CustomerNotFound if
    there are none."""
    totals = sales.customer_totals(name)
    if totals is None:
        raise CustomerNotFound(name)
    return totals


# The orders page's ?sort= (as the products page's): a name, "-" first for descending.
ORDER_SORTS = {"created": "created_at", "total": "total_cents", "customer": "customer"}
ORDER_SORT_DEFAULT = "-created"  # the walk above
_SORT_FIELDS = {"created_at": 1, "total_cents": 1, "customer": 1, "status": 1}


def order_sort_check(sort: str) -> None:
    """ValueError for an unknown order ("total", "-total", ... are known)."""
    if sort.removeprefix("-") not in ORDER_SORTS:
        raise ValueError(f"must be one of {', '.join(ORDER_SORTS)}, optionally with a '-'")


def orders_sorted_since(
    *, days: int, customer: str | None = None, status=None, sort: str
) -> tuple[int, Callable[[int, int], list[dict]]]:
    """(count, fetch(skip, limit)) of the orders of the last `days` days in `sort` order.

    Costs the window, not a page: it reads the sort fields of every order of the window (one
    `day` equality per UTC day, or the customer's orders by `customer`; ~0.2 ms an order on
    FerretDB), sorts them here, then reads the page's orders by `_id`. A sorted range query would
    cost more on FerretDB v1.24: it pushes neither a range nor a sort on a field down to
    PostgreSQL, so it would decode every order ever placed. `_id` breaks ties, so pages neither
    repeat nor drop an order.
    """
    order_sort_check(sort)
    since = utcnow() - timedelta(days=days)
    if customer is not None:
        docs = repository.find_customer(customer, _SORT_FIELDS)
    else:
        first, last = since.date(), (utcnow() + ONE_DAY).date()  # stamped a little ahead too
        utc_days = [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
        docs = [doc for day in utc_days for doc in repository.find_day(day, _SORT_FIELDS)]
    keys = [
        doc for doc in docs
        if as_utc(doc["created_at"]) >= since and (status is None or order_status(doc) == status)
    ]  # fmt: skip
    field = ORDER_SORTS[sort.removeprefix("-")]
    if field == "customer":  # A to Z in any case, as the products' names
        keys.sort(key=lambda doc: (doc["customer"].casefold(), doc["customer"], doc["_id"]))
    else:
        keys.sort(key=lambda doc: (doc[field], doc["_id"]))
    if sort.startswith("-"):
        keys.reverse()

    def fetch(skip: int, limit: int) -> list[dict]:
        return repository.find_each([doc["_id"] for doc in keys[skip : skip + limit]])

    return len(keys), fetch
