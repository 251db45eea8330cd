"""Reads of products (HackSoft-style selectors): no writes, no request objects."""

from collections.abc import Iterator

from bson import ObjectId

from . import repository
from .exceptions import ProductNotFound


def product_get(*, product_id) -> dict:
    """The product; ProductNotFound for an unknown id or one that is not an ObjectId."""
    oid = repository.parse_id(product_id)
    doc = repository.find_by_id(oid) if oid is not None else None
    if doc is None:
        raise ProductNotFound(product_id)
    return doc


def product_count(
    *, category: str | None = None, available: bool | None = None, q: str | None = None
) -> int:
    return repository.count(repository.list_filter(category=category, available=available, q=q))


def product_list(
    *,
    category: str | None = None,
    available: bool | None = None,
    q: str | None = None,
    skip: int = 0,
    limit: int = 50,
) -> list[dict]:
    """One page, newest first (an indexed sorted query with skip/limit)."""
    query = repository.list_filter(category=category, available=available, q=q)
    return repository.find_page(query, skip=skip, limit=limit)


def products_get_many(*, product_ids) -> dict[ObjectId, dict]:
    return repository.find_by_ids(product_ids)


def products_unavailable_count() -> int:
    return repository.unavailable_count()


def products_orderable(*, limit: int = 500) -> list[dict]:
    """Newest products still for sale, for the place-order form's choices."""
    return product_list(available=True, limit=limit)


def products_iter(
    *, category: str | None = None, available: bool | None = None, q: str | None = None
) -> Iterator[dict]:
    """Every product the filters select, newest first, streamed from a cursor (exports)."""
    return iter(
        repository.find_iter(repository.list_filter(category=category, available=available, q=q))
    )
