"""The soak's end check (bench/soak.py): after the load, wait for the purchase recovery and the
outbox, then check stock + sold = initial for every product, no purchase intent or stock mark
left, and exactly one order_created event per stored order."""

import json
import time
from collections import defaultdict
from pathlib import Path

INITIAL_STOCK = 1_000_000


def reconcile(product_ids: list[str], since, timeout: float) -> dict:
    """After the load: wait for the recovery and the outbox, then check stock and the log."""
    from bson import ObjectId
    from django.conf import settings

    from catalog import repository as catalog_repository
    from eventlog.manager import get_log_manager
    from orders import purchase_repository
    from orders import repository as orders_repository
    from shopsite.redis_client import get_redis

    deadline = time.monotonic() + timeout
    while purchase_repository.intent_count() and time.monotonic() < deadline:
        time.sleep(1)
    intents_left = purchase_repository.intent_count()
    spool = Path(settings.EVENT_SPOOL_DIR)
    while time.monotonic() < deadline:
        pending = get_redis().xlen(settings.EVENT_OUTBOX_STREAM)
        spooled = any(spool.iterdir()) if spool.is_dir() else False
        if not pending and not spooled:
            break
        time.sleep(1)

    sold: dict[str, int] = defaultdict(int)
    order_ids = set()
    for order in orders_repository.orders().find({"created_at": {"$gte": since}}, {"items": 1}):
        order_ids.add(str(order["_id"]))
        for item in order["items"]:
            sold[item["product_id"]] += item["quantity"]
    mismatches = []
    marks = 0
    for pid in product_ids:
        product = catalog_repository.find_by_id(ObjectId(pid))
        marks += len(product.get(catalog_repository.MARKS, []))
        if product["stock"] + sold[pid] != INITIAL_STOCK:
            mismatches.append((pid, product["stock"], sold[pid]))

    hours = int((time.time() - since.timestamp()) // 3600) + 1
    logged: dict[str, int] = defaultdict(int)
    for entry in get_log_manager().recent("order_created", hours=hours, limit=10_000_000):
        if entry.timestamp >= since:
            logged[json.loads(entry.metadata)["order_id"]] += 1
    return {
        "orders": len(order_ids),
        "products": len(product_ids),
        "stock_mismatches": mismatches,
        "intents_left": intents_left,
        "stock_marks_left": marks,
        "orders_without_event": len(order_ids - set(logged)),
        "orders_with_duplicate_events": sum(1 for i in order_ids if logged.get(i, 0) > 1),
        "events_without_order": len(set(logged) - order_ids),
        "exact": not mismatches
        and not intents_left
        and not marks
        and set(logged) == order_ids
        and all(n == 1 for n in logged.values()),
    }
