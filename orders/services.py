"""Placing orders: the purchase (HackSoft style: keyword-only functions).

An order takes its items' stock through catalog.services.stock_take (per-product Redis locks
in sorted id order around guarded $inc decrements; all or none), copies each product's
current name, category and price into the order, and computes the totals and the UTC `day`
the stats read. If the order cannot be stored, the stock is given back.
"""

import logging
from datetime import datetime

from bson import ObjectId

from catalog import selectors as catalog_selectors
from catalog import services as catalog_services
from catalog.exceptions import ProductNotOrderable, StockConflict
from eventlog.services import event_record
from shopsite.money import cents_to_str
from shopsite.timeutil import as_utc, day_key, truncate_ms, utcnow

from . import repository
from .exceptions import OrderRejected

logger = logging.getLogger(__name__)


def order_place(
    *, customer: str, items: list[dict], created_at: datetime | None = None, user_id
) -> dict:
    """items: [{"product_id": "24-hex", "quantity": int >= 1}] in the customer's order."""
    order = {"customer": customer, "items": items, "created_at": created_at}
    return _place([order], user_id=user_id, bulk=False)[0]


def orders_place_bulk(*, orders: list[dict], user_id) -> list[dict]:
    """Several orders (each like order_place's arguments), all or nothing."""
    return _place(orders, user_id=user_id, bulk=True)


def _place(orders: list[dict], *, user_id, bulk: bool) -> list[dict]:
    needed: dict[ObjectId, int] = {}
    for order in orders:
        for item in order["items"]:
            oid = ObjectId(item["product_id"])
            needed[oid] = needed.get(oid, 0) + item["quantity"]

    products = catalog_selectors.products_get_many(product_ids=needed)
    _reject_unorderable(orders, products, bulk=bulk)
    # Fail fast without locking when the stock is already too low (the locked, guarded
    # decrement below is what decides; this only spares the lock under heavy contention).
    for oid, quantity in needed.items():
        if products[oid]["stock"] < quantity:
            raise _stock_conflict(oid, products[oid]["stock"], quantity)

    try:
        taken = catalog_services.stock_take(quantities=needed)
    except ProductNotOrderable as exc:  # changed since the check above
        _reject_unorderable(orders, {}, bulk=bulk, only=exc)
        raise

    now = utcnow()
    docs = [_order_doc(order, taken, now=now, user_id=user_id) for order in orders]
    try:
        repository.insert_many(docs)
    except BaseException:
        logger.warning("order not stored; giving back the stock of %d product(s)", len(needed))
        catalog_services.stock_give_back(quantities=needed)
        raise

    for doc in docs:
        event_record(
            event_type="order_created",
            user_id=user_id,
            metadata={
                "order_id": str(doc["_id"]),
                "customer": doc["customer"],
                "total": cents_to_str(doc["total_cents"]),
                "items": [[i["product_id"], i["quantity"]] for i in doc["items"]],
            },
        )
    catalog_services.stock_changes_record(
        before_after={
            oid: (taken[oid]["stock"] + quantity, taken[oid]["stock"])
            for oid, quantity in needed.items()
        },
        reason="order",
        user_id=user_id,
        order_ids=[str(doc["_id"]) for doc in docs][:100],
    )
    return docs


def _stock_conflict(oid: ObjectId, available: int, quantity: int) -> StockConflict:
    return StockConflict(
        oid,
        available=available,
        detail=f"Insufficient stock for product {oid}: {available} available, "
        f"{quantity} requested.",
    )


def _reject_unorderable(
    orders: list[dict], products: dict, *, bulk: bool, only: ProductNotOrderable | None = None
) -> None:
    """OrderRejected naming each item whose product is missing or not for sale."""
    all_errors = []
    for order in orders:
        item_errors = []
        for item in order["items"]:
            oid = ObjectId(item["product_id"])
            message = None
            if only is not None:
                if str(oid) == only.product_id:
                    message = str(only)
            elif oid not in products:
                message = "Unknown product."
            elif not products[oid].get("available", True):
                message = "Product is not available."
            item_errors.append({"product_id": [message]} if message else {})
        all_errors.append({"items": item_errors} if any(item_errors) else {})
    if any(all_errors):
        raise OrderRejected(all_errors if bulk else all_errors[0])


def _order_doc(order: dict, products: dict[ObjectId, dict], *, now: datetime, user_id) -> dict:
    created_at = truncate_ms(as_utc(order["created_at"])) if order.get("created_at") else now
    items = []
    for item in order["items"]:
        product = products[ObjectId(item["product_id"])]
        quantity = int(item["quantity"])
        items.append(
            {
                "product_id": str(product["_id"]),
                "name": product["name"],
                "category": product["category"],
                "unit_price_cents": product["price_cents"],
                "quantity": quantity,
                "line_total_cents": product["price_cents"] * quantity,
            }
        )
    return {
        "customer": order["customer"],
        "created_at": created_at,
        "day": day_key(created_at),
        "items": items,
        "total_cents": sum(i["line_total_cents"] for i in items),
        "quantity": sum(i["quantity"] for i in items),
        "created_by": "" if user_id is None else str(user_id),
    }
