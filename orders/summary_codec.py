"""How the sales summaries are encoded in their documents, and month arithmetic (pure: no store).

The rows of `products`, `categories`, `customers` and `moments` are stored as one JSON string
each: FerretDB converts every value of a document on each read, so a day's 2,000 customer rows
as sub-documents cost ~17x more to read than the same rows as one string.
"""

import json
from datetime import datetime

PACKED_PARTS = ("products", "categories", "customers", "moments")


def _json_value(value):
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} in a summary row")


def pack(doc: dict) -> dict:
    """The document as stored: each part's rows as one JSON string."""
    return {
        name: json.dumps(value, separators=(",", ":"), default=_json_value)
        if name in PACKED_PARTS
        else value
        for name, value in doc.items()
    }


def unpack(doc: dict | None) -> dict | None:
    """A stored document as read: each part's rows (a product's `last_at` a datetime again)."""
    if doc is None:
        return None
    for name in PACKED_PARTS:
        if isinstance(doc.get(name), str):
            doc[name] = json.loads(doc[name])
            if name == "products":
                for row in doc[name]:
                    row["last_at"] = datetime.fromisoformat(row["last_at"])
    return doc


def months_between(first: str, last: str) -> list[str]:
    """ "YYYY-MM" from first to last, inclusive."""
    year, month = int(first[:4]), int(first[5:7])
    found = []
    while f"{year:04d}-{month:02d}" <= last:
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def months_back(last: str, count: int) -> list[str]:
    """`count` months ending with `last`, newest first."""
    year, month = int(last[:4]), int(last[5:7])
    found = []
    for _ in range(count):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return found
