"""Crash safety of the purchase with real processes: the serving gunicorn worker is killed
(os._exit) at each step of a single and a bulk order, the recovery runs, and then every
product's stock + sold = its initial stock, no intent is left, the event log holds exactly one
order_created per placed order, and a retry with the same Idempotency-Key returns the order
that was placed (or places it once)."""

import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from bson import ObjectId

from catalog import services as catalog_services
from eventlog.manager import get_log_manager
from eventlog.worker import OutboxWorker
from orders import purchase_repository, services
from tests.gunicorn_server import GunicornServer

INITIAL = 20
SINGLE = {"customer": "Ada", "items": [("A", 2), ("B", 3)]}
BULK = [
    {"customer": "Ada", "items": [("A", 2), ("B", 1)]},
    {"customer": "Bob", "items": [("B", 2), ("C", 4)]},
]
# Every step of the purchase; bulk: after_stock_3 is the last of its three products.
STEPS = ["after_intent", "after_stock_1", "before_commit", "after_commit", "after_store"]
SINGLE_STEPS = [*STEPS, "after_stock_2"]
BULK_STEPS = [*STEPS, "after_stock_3"]
# Past the commit the purchase is finished by the recovery; before it, undone.
PLACED = {"after_commit", "after_store"}


@pytest.fixture(scope="module")
def server(tmp_path_factory, _mongo_session, cassandra_keyspace):
    with GunicornServer(tmp_path_factory.mktemp("crash")) as running:
        yield running


@pytest.fixture
def products(server, mongo, redis_client):
    get_log_manager().truncate()
    server.login()
    docs = {
        name: catalog_services.product_create(
            name=f"Product {name}", category="crash", price_cents=250, stock=INITIAL, user_id=None
        )
        for name in "ABC"
    }
    return {name: str(doc["_id"]) for name, doc in docs.items()}


def body_for(spec, products):
    def one(order):
        items = [{"product_id": products[n], "quantity": q} for n, q in order["items"]]
        return {"customer": order["customer"], "items": items}

    return [one(o) for o in spec] if isinstance(spec, list) else one(spec)


def post(server, body, key=None, timeout=30):
    headers = dict(server.auth)
    if key:
        headers["Idempotency-Key"] = key
    return httpx.post(server.url + "/orders/", json=body, headers=headers, timeout=timeout)


def assert_consistent(mongo, products):
    """stock + sold = initial for every product; no intent left; one event per placed order."""
    services.order_intents_recover(older_than_seconds=3600)  # settles finished purchases
    sold = {pid: 0 for pid in products.values()}
    orders = list(mongo["orders"].find())
    for order in orders:
        for item in order["items"]:
            sold[item["product_id"]] += item["quantity"]
    for pid in products.values():
        product = mongo["products"].find_one({"_id": ObjectId(pid)})
        assert product["stock"] + sold[pid] == INITIAL, (pid, product["stock"], sold[pid])
        assert not product.get("stock_marks"), product["stock_marks"]
    assert purchase_repository.intent_count() == 0
    OutboxWorker(block_ms=10).drain(timeout=60)
    logged = [
        json.loads(e.metadata)["order_id"]
        for e in get_log_manager().recent("order_created", hours=1, limit=1000)
    ]
    assert sorted(logged) == sorted(str(o["_id"]) for o in orders)
    return orders


@pytest.mark.parametrize(
    "spec,step",
    [(SINGLE, s) for s in SINGLE_STEPS] + [(BULK, s) for s in BULK_STEPS],
    ids=[f"single-{s}" for s in SINGLE_STEPS] + [f"bulk-{s}" for s in BULK_STEPS],
)
def test_worker_killed_at_each_step(server, products, mongo, spec, step):
    body = body_for(spec, products)
    key = f"crash-{step}-{isinstance(spec, list)}"
    server.arm(step)
    with pytest.raises(httpx.TransportError):
        post(server, body, key=key)
    assert server.disarm(), "the fault did not fire"
    placed = step in PLACED
    if placed:
        # The orders are stored but the answer was lost: the key is still held for them.
        assert post(server, body, key=key).status_code == 409
    report = services.order_intents_recover(older_than_seconds=0)
    assert report["failed"] == 0
    orders = assert_consistent(mongo, products)
    assert len(orders) == (len(body) if isinstance(body, list) else 1) * placed

    # The client retries with the same key: the order placed before the crash, or a new one.
    retry = post(server, body, key=key)
    assert retry.status_code == 201, retry.text
    assert (retry.headers.get("Idempotent-Replayed") == "true") == placed
    ids = [o["id"] for o in retry.json()] if isinstance(body, list) else [retry.json()["id"]]
    if placed:
        assert sorted(ids) == sorted(str(o["_id"]) for o in orders)
    orders = assert_consistent(mongo, products)
    assert sorted(ids) == sorted(str(o["_id"]) for o in orders)
    again = post(server, body, key=key)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == retry.json()


def test_ten_concurrent_requests_with_one_key_place_one_order(server, products, mongo):
    body = body_for(SINGLE, products)
    with ThreadPoolExecutor(10) as pool:
        responses = list(pool.map(lambda _: post(server, body, key="same-key"), range(10)))
    codes = sorted(r.status_code for r in responses)
    assert set(codes) <= {201, 409}, codes
    ids = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(ids) == 1
    assert mongo["orders"].count_documents({}) == 1
    assert_consistent(mongo, products)


def test_the_worker_process_recovers_at_start_up(server, products, mongo):
    """A purchase cut off before it committed is undone by the event worker's recovery."""
    server.arm("after_stock_1")
    with pytest.raises(httpx.TransportError):
        post(server, body_for(SINGLE, products))
    assert purchase_repository.intent_count() == 1
    server.env["ORDER_INTENT_RECOVER_AFTER_SECONDS"] = "0"
    try:
        server.start_worker()
        for _ in range(150):
            if purchase_repository.intent_count() == 0:
                break
            time.sleep(0.2)
    finally:
        server.stop_worker()
        server.env.pop("ORDER_INTENT_RECOVER_AFTER_SECONDS")
    assert_consistent(mongo, products)
