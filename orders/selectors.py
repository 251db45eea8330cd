"""Reads of orders (selectors): no writes, no request objects."""

from collections.abc import Iterator
from datetime import datetime, timedelta

from shopsite.timeutil import utcnow

from . import repository, stats
from .exceptions import OrderNotFound


def order_get(*, order_id) -> dict:
    oid = repository.parse_id(order_id)
    doc = repository.find_by_id(oid) if oid is not None else None
    if doc is None:
        raise OrderNotFound(order_id)
    return doc


def orders_recent(*, limit: int = 100) -> list[dict]:
    return repository.recent(limit)


def _since(days: int, customer: str | None) -> dict:
    return repository.since_filter(since=utcnow() - timedelta(days=days), customer=customer)


def orders_count_since(*, days: int, customer: str | None = None) -> int:
    return repository.count(_since(days, customer))


def orders_list_since(
    *, days: int, customer: str | None = None, skip: int = 0, limit: int = 50
) -> list[dict]:
    """Orders of the last `days` days, newest first, one page."""
    return repository.find_page(_since(days, customer), skip=skip, limit=limit)


def orders_iter_since(*, days: int, customer: str | None = None) -> Iterator[dict]:
    """Every order of the last `days` days, newest first, streamed from a cursor (exports:
    nothing is held but the current batch)."""
    return iter(repository.find_iter(_since(days, customer)))


def orders_sold_totals(*, start: datetime, end: datetime) -> dict:
    """Orders, units and revenue in [start, end) (the summaries plus the edge days)."""
    return stats.sold_totals(start, end)
