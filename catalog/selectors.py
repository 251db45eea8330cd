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


# The product list's orders (?sort=, "-" for descending) and the fields they sort by.
PRODUCT_SORTS = {
    "name": "name_lower",
    "price": "price_cents",
    "stock": "stock",
    "created": "created_at",
}
PRODUCT_SORT_DEFAULT = "-created"


def product_sort_keys(sort: str) -> list[tuple[str, int]]:
    """Sort keys for "stock" / "-stock" ...; ValueError for an unknown name."""
    name = sort.removeprefix("-")
    if name not in PRODUCT_SORTS:
        raise ValueError(f"must be one of {', '.join(PRODUCT_SORTS)}, optionally with a '-'")
    # -1 / 1: pymongo's DESCENDING / ASCENDING (only the repository imports the driver).
    return [(PRODUCT_SORTS[name], -1 if sort.startswith("-") else 1)]


def product_list(
    *,
    category: str | None = None,
    available: bool | None = None,
    q: str | None = None,
    skip: int = 0,
    limit: int = 50,
    sort: str = PRODUCT_SORT_DEFAULT,
) -> list[dict]:
    """One page in `sort` order (default newest first: an indexed sorted query; other orders
    sort in the store)."""
    query = repository.list_filter(category=category, available=available, q=q)
    return repository.find_page(query, skip=skip, limit=limit, sort=product_sort_keys(sort))


def products_get_many(*, product_ids) -> dict[ObjectId, dict]:
    return repository.find_by_ids(product_ids)


def products_unavailable_count() -> int:
    return repository.unavailable_count()


def products_low_stock(*, threshold: int, limit: int) -> tuple[list[dict], int]:
    """The `limit` for-sale products with the lowest stock at or under `threshold`, lowest
    first, and how many there are in all (the home page's panel)."""
    rows = repository.find_low_stock(threshold, limit=limit)
    return rows, repository.count(repository.low_stock_filter(threshold))


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


def products_by_ids(*, product_ids) -> dict[str, dict]:
    """The products with these ids (hex strings; invalid ones are skipped), by id string."""
    oids = [oid for oid in map(repository.parse_id, product_ids) if oid is not None]
    return {str(oid): doc for oid, doc in repository.find_by_ids(oids).items()}


def products_by_name_category(*, pairs) -> dict[tuple[str, str], list[dict]]:
    """The products named as each (name, category) pair says: a list, since names are not
    unique."""
    pairs = set(pairs)
    found: dict[tuple[str, str], list[dict]] = {}
    for doc in repository.find_by_names(name for name, _ in pairs):
        key = (doc["name"], doc["category"])
        if key in pairs:
            found.setdefault(key, []).append(doc)
    return found
