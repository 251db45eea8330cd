"""Rows of the products CSV download (API and dashboard); the import reads the same columns."""

from collections.abc import Iterable, Iterator

from shopsite.money import cents_to_str
from shopsite.timeutil import iso

PRODUCT_HEADER = [
    "id",
    "name",
    "category",
    "price",
    "stock",
    "available",
    "description",
    "created_at",
    "updated_at",
]


def product_rows(products: Iterable[dict]) -> Iterator[dict]:
    for doc in products:
        yield {
            "id": str(doc["_id"]),
            "name": doc["name"],
            "category": doc["category"],
            "price": cents_to_str(doc["price_cents"]),
            "stock": doc["stock"],
            "available": "true" if doc.get("available", True) else "false",
            "description": doc.get("description", ""),
            "created_at": iso(doc.get("created_at")),
            "updated_at": iso(doc.get("updated_at")),
        }
