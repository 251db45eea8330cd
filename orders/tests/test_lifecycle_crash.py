"""Crash safety of the cancel with real processes, as test_crash_safety.py does for the purchase:
the serving gunicorn worker is killed (os._exit) at each step of the cancel of a single-item and
a multi-item order, the recovery runs, and then the order is cancelled, every product's stock +
sold (orders not cancelled) = its initial stock with no stock mark left, and the event log holds
exactly one order_cancelled for it. A cancel sent again answers 200 and gives nothing more.
The same server also takes racing cancels (and fulfils) from its two worker processes."""

import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from bson import ObjectId

from catalog import services as catalog_services
from eventlog.manager import get_log_manager
from eventlog.worker import OutboxWorker
from orders import services
from tests.gunicorn_server import GunicornServer

INITIAL = 20
SINGLE = [("A", 2)]
MULTI = [("A", 2), ("B", 3), ("C", 1), ("A", 1)]
STEPS = ["after_status_decided", "after_stock_back", "after_status_written"]


@pytest.fixture(scope="module")
def server(tmp_path_factory, _mongo_session, cassandra_keyspace):
    with GunicornServer(tmp_path_factory.mktemp("lifecycle-crash")) as running:
        yield running


@pytest.fixture
def products(server, mongo, redis_client):
    get_log_manager().truncate()
    services.sales_summaries_refresh()  # the emptied store's summaries built, as on a new shop
    server.login()
    docs = {
        name: catalog_services.product_create(
            name=f"Product {name}", category="crash", price_cents=250, stock=INITIAL, user_id=None
        )
        for name in "ABC"
    }
    return {name: str(doc["_id"]) for name, doc in docs.items()}


def place(server, products, lines, customer="Ada") -> dict:
    body = {
        "customer": customer,
        "items": [{"product_id": products[n], "quantity": q} for n, q in lines],
    }
    response = httpx.post(server.url + "/orders/", json=body, headers=server.auth, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()


def cancel(server, order_id, reason="crash test"):
    return httpx.post(
        f"{server.url}/orders/{order_id}/cancel/",
        json={"reason": reason},
        headers=server.auth,
        timeout=30,
    )


def assert_consistent(mongo, products, cancelled_ids):
    """stock + sold by the orders not cancelled = initial; no mark left; one order_cancelled
    event per cancelled order, under the id derived from its decision."""
    services.order_intents_recover(older_than_seconds=3600)  # settles the purchases' marks
    sold = {pid: 0 for pid in products.values()}
    for order in mongo["orders"].find():
        assert (order.get("status") == "cancelled") == (str(order["_id"]) in cancelled_ids)
        if order.get("status") != "cancelled":
            for item in order["items"]:
                sold[item["product_id"]] += item["quantity"]
    for pid in products.values():
        product = mongo["products"].find_one({"_id": ObjectId(pid)})
        assert product["stock"] + sold[pid] == INITIAL, (pid, product["stock"], sold[pid])
        assert not product.get("stock_marks"), product["stock_marks"]
    OutboxWorker(block_ms=10).drain(timeout=60)
    logged = get_log_manager().recent("order_cancelled", hours=1, limit=1000)
    assert sorted(json.loads(e.metadata)["order_id"] for e in logged) == sorted(cancelled_ids)


@pytest.mark.parametrize("lines", [SINGLE, MULTI], ids=["single", "multi"])
@pytest.mark.parametrize("step", STEPS)
def test_cancel_killed_at_each_step_is_finished_by_the_recovery(
    server, products, mongo, lines, step
):
    order = place(server, products, lines)
    kept = place(server, products, [("B", 1), ("C", 2)], customer="Bob")  # stays a sale
    server.arm(step)
    with pytest.raises(httpx.TransportError):
        cancel(server, order["id"])
    assert server.disarm(), "the fault did not fire"

    services.order_status_changes_recover(older_than_seconds=0)
    assert_consistent(mongo, products, [order["id"]])
    stored = mongo["orders"].find_one({"_id": ObjectId(order["id"])})
    assert stored["cancel_reason"] == "crash test"

    # The client retries: the cancel stands, nothing more goes back, no second event.
    again = cancel(server, order["id"], reason="retry")
    assert again.status_code == 200, again.text
    assert (again.json()["status"], again.json()["cancel_reason"]) == ("cancelled", "crash test")
    assert_consistent(mongo, products, [order["id"]])
    sold = httpx.get(server.url + "/stats/customer/Bob", headers=server.auth, timeout=30)
    assert sold.json()["orders"] == 1
    gone = httpx.get(server.url + "/stats/customer/Ada", headers=server.auth, timeout=30)
    assert gone.status_code == 404
    assert kept["status"] == "placed"


@pytest.mark.parametrize("step", STEPS)
def test_a_retry_before_the_recovery_finishes_the_cancel(server, products, mongo, step):
    """The client retries at once (no recovery has run yet): the answer is the cancelled order
    and the stock is back exactly once."""
    order = place(server, products, MULTI)
    server.arm(step)
    with pytest.raises(httpx.TransportError):
        cancel(server, order["id"])
    assert server.disarm(), "the fault did not fire"
    again = cancel(server, order["id"], reason="retry")
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "cancelled"
    services.order_status_changes_recover(older_than_seconds=0)
    assert_consistent(mongo, products, [order["id"]])


def test_twenty_cancels_over_http_from_two_processes_return_the_stock_once(server, products, mongo):
    order = place(server, products, MULTI)
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda _: cancel(server, order["id"]), range(20)))
    assert [a.status_code for a in answers] == [200] * 20, [a.text for a in answers]
    assert {a.json()["status"] for a in answers} == {"cancelled"}
    assert_consistent(mongo, products, [order["id"]])


def test_cancels_racing_fulfils_over_http_one_change_wins(server, products, mongo):
    order = place(server, products, MULTI)

    def one(index):
        if index % 2:
            return cancel(server, order["id"])
        return httpx.post(
            f"{server.url}/orders/{order['id']}/fulfil/", headers=server.auth, timeout=30
        )

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(one, range(16)))
    final = mongo["orders"].find_one({"_id": ObjectId(order["id"])})["status"]
    assert final in ("cancelled", "fulfilled")
    for answer in answers:
        if answer.status_code == 200:
            assert answer.json()["status"] == final
        else:  # the other change: refused, naming the status that won
            assert answer.status_code == 409, answer.text
            assert answer.json()["status"] == final
    assert_consistent(mongo, products, [order["id"]] if final == "cancelled" else [])
