"""The writes of a products CSV import (catalog/imports.py checks the file, catalog/import_views.py
is its page): create or update every row, all or nothing."""

import contextlib
import logging

from bson import ObjectId

from eventlog.services import event_record
from shopsite.timeutil import utcnow

from . import repository
from .exceptions import ProductNotFound
from .locks import stock_locks
from .services import product_oid, products_create_bulk, stock_changes_record

logger = logging.getLogger(__name__)

# An update import holds the stock locks of this many products at a time (well within
# STOCK_LOCK_TIMEOUT_SECONDS), so purchases of other products are never kept waiting long.
IMPORT_BATCH = 200


def products_import_create(*, items: list[dict], user_id) -> list[dict]:
    """Create the products of an import (every row already validated); all or nothing: the
    repository removes what it had inserted if the server fails half-way."""
    docs = products_create_bulk(items=items, user_id=user_id)
    event_record(
        event_type="products_imported",
        user_id=user_id,
        metadata={"mode": "create", "count": len(docs)},
    )
    return docs


def products_import_update(*, updates: list[tuple[str, dict]], user_id) -> int:
    """Apply (product_id, fields) changes of an import, fields among price_cents, stock and
    available, every row already validated; all or nothing.

    There are no transactions (FerretDB has none), so a failure half-way (a product deleted
    meanwhile, a backend down) undoes what was written. The batch being written is still under
    its locks: each field is put back where it still holds the imported value. Earlier batches
    were released to purchases: price/availability are put back the same way (a later edit by
    someone else is kept) and stock changes are reversed as a delta (purchases are kept). If
    the undo itself cannot reach the database, each product's previous values are logged.
    """
    done: list[tuple[ObjectId, dict, dict]] = []  # written and released: (id, before, fields)
    try:
        for start in range(0, len(updates), IMPORT_BATCH):
            oids = [
                product_oid(product_id) for product_id, _ in updates[start : start + IMPORT_BATCH]
            ]
            with stock_locks(oids):
                current = repository.find_by_ids(oids)
                for oid in oids:
                    if oid not in current:  # deleted since the preview
                        raise ProductNotFound(oid)
                fields = [f for _, f in updates[start : start + IMPORT_BATCH]]
                batch = [(oid, current[oid], f) for oid, f in zip(oids, fields, strict=True)]
                now = utcnow()
                try:
                    # One update per product: FerretDB v1.24 (SQLite) was seen to stop answering
                    # a bulk `update` of 50-100 statements, holding its database lock meanwhile.
                    for oid, _, f in batch:
                        if repository.update_fields(oid, {**f, "updated_at": now}) is None:
                            raise ProductNotFound(oid)
                except BaseException:
                    _import_undo(batch, stock_as_delta=False, locked=True)
                    raise
                done.extend(batch)
    except BaseException:
        _import_undo(done, stock_as_delta=True)
        raise
    for oid, before, fields in done:
        if "stock" in fields and fields["stock"] != before["stock"]:
            stock_changes_record(
                before_after={oid: (before["stock"], fields["stock"])},
                reason="import",
                user_id=user_id,
            )
    event_record(
        event_type="products_imported",
        user_id=user_id,
        metadata={"mode": "update", "count": len(done)},
    )
    return len(done)


def _import_undo(
    written: list[tuple[ObjectId, dict, dict]], *, stock_as_delta: bool, locked: bool = False
) -> None:
    for oid, before, fields in reversed(written):
        try:
            with contextlib.nullcontext() if locked else stock_locks([oid]):
                exact = {k: v for k, v in fields.items() if k != "stock" or not stock_as_delta}
                if exact:
                    previous = {k: before[k] for k in exact}
                    repository.restore_fields(oid, expected=exact, previous=previous)
                delta = fields.get("stock", before["stock"]) - before["stock"]
                undone = not (stock_as_delta and delta) or repository.stock_add(
                    oid, -delta, now=utcnow()
                )
                if not undone:
                    logger.error("import undo: stock of %s not reset (delta %d)", oid, -delta)
        except Exception:
            logger.exception(
                "import undo failed for product %s; previous values: %s",
                oid,
                {k: before.get(k) for k in fields},
            )
