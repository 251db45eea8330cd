"""Reads of orders (selectors): no writes, no request objects.

Lists walk the days newest first, reading each day's orders by `day` equality; the per-day
counts of the sales summaries give the totals and let a page skip whole days. A customer's list
reads that customer's orders by `customer` equality. Nothing sorts or counts all the orders.
"""

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shopsite.timeutil import day_key, utcnow

from . import repository, stats, summaries
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


def _day_orders(day: str, since: datetime | None = None) -> list[dict]:
    docs = repository.find_day(day)
    if since is not None:
        docs = [doc for doc in docs if doc["created_at"] >= since]
    return repository.newest_first(docs)


def orders_recent(*, limit: int = 100) -> list[dict]:
    """The `limit` newest orders: the newest days' orders until there are enough."""
    summaries.refresh_days()
    found: list[dict] = []
    for day, _ in summary_store.day_counts_newest_first(_last_month()):
        found.extend(_day_orders(day))
        if len(found) >= limit:
            break
    return found[:limit]


@dataclass
class _Window:
    """The orders since a moment, as newest-first (day, count) pairs; the oldest day is partial,
    so its orders are read (and kept) to count them."""

    since: datetime
    customer: str | None
    days: list[tuple[str, int]] = field(default_factory=list)
    loaded: dict[str, list[dict]] = field(default_factory=dict)

    def __post_init__(self):
        if self.customer is not None:
            # One customer's orders, by equality: no summaries needed.
            docs = repository.find_customer(self.customer)
            mine = repository.newest_first([d for d in docs if d["created_at"] >= self.since])
            self.days = [("", len(mine))]
            self.loaded[""] = mine
            return
        summaries.refresh_days()
        first = day_key(self.since)
        counts = summary_store.day_counts_from(first, _last_month())
        if counts and counts[-1][0] == first:
            edge = _day_orders(first, self.since)
            self.loaded[first] = edge
            counts[-1] = (first, len(edge))
        self.days = counts

    @property
    def count(self) -> int:
        return sum(count for _, count in self.days)

    def orders(self, day: str) -> list[dict]:
        # Not kept: an export walks every day, holding one day at a time.
        return self.loaded[day] if day in self.loaded else _day_orders(day)

    def iterate(self, skip: int = 0) -> Iterator[dict]:
        """The orders newest first from position `skip`, jumping over whole days."""
        for day, count in self.days:
            if skip >= count:
                skip -= count
                continue
            yield from self.orders(day)[skip:]
            skip = 0


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
