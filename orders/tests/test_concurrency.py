"""Concurrency against the real services: purchases never oversell, no stock update is lost.

Each thread has its own APIClient, so requests run through the whole stack in parallel.
"""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from catalog.locks import lock_key
from catalog.tests.helpers import create_product

pytestmark = pytest.mark.usefixtures("mongo", "redis_client")


def run_parallel(calls, workers=40):
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(call) for call in calls]
        return [future.result() for future in futures]


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def buy(user, product_id, quantity=1, customer="c"):
    def call():
        body = {"customer": customer, "items": [{"product_id": product_id, "quantity": quantity}]}
        return client_for(user).post("/orders/", body, format="json").status_code

    return call


def stock_of(client, product_id) -> int:
    return client.get(f"/products/{product_id}/").json()["stock"]


def test_forty_concurrent_single_unit_orders_for_stock_ten(staff_client, staff_user, mongo):
    product = create_product(staff_client, stock=10)
    statuses = run_parallel([buy(staff_user, product["id"]) for _ in range(40)])
    assert statuses.count(201) == 10
    assert statuses.count(409) == 30
    assert stock_of(staff_client, product["id"]) == 0
    assert mongo["orders"].count_documents({}) == 10


def test_restocks_racing_purchases_lose_no_update(staff_client, staff_user, mongo):
    product = create_product(staff_client, stock=10)

    def restock():
        client = client_for(staff_user)
        return client.post(f"/products/{product['id']}/stock/", {"delta": 1}, format="json")

    calls = []
    for _ in range(20):
        calls += [buy(staff_user, product["id"]), lambda: restock().status_code]
    statuses = run_parallel(calls)
    purchases, restocks = statuses[0::2], statuses[1::2]
    assert restocks == [200] * 20
    assert set(purchases) <= {201, 409}
    sold = purchases.count(201)
    assert sold >= 10
    assert stock_of(staff_client, product["id"]) == 10 - sold + 20
    assert mongo["orders"].count_documents({}) == sold


def test_edits_racing_purchases_do_not_undo_stock_changes(staff_client, staff_user, mongo):
    """On FerretDB an update rewrites the whole document: a rename must not bring back stock."""
    product = create_product(staff_client, stock=30)

    def rename(i):
        def call():
            client = client_for(staff_user)
            body = {"name": f"name {i}"}
            return client.patch(f"/products/{product['id']}/", body, format="json").status_code

        return call

    calls = []
    for i in range(20):
        calls += [buy(staff_user, product["id"]), rename(i)]
    statuses = run_parallel(calls)
    assert statuses[0::2] == [201] * 20
    assert statuses[1::2] == [200] * 20
    assert stock_of(staff_client, product["id"]) == 10


def test_opposite_item_orders_do_not_deadlock(staff_client, staff_user):
    a = create_product(staff_client, name="A", stock=100)
    b = create_product(staff_client, name="B", stock=100)

    def order(first, second):
        def call():
            body = {
                "customer": "x",
                "items": [
                    {"product_id": first, "quantity": 1},
                    {"product_id": second, "quantity": 1},
                ],
            }
            return client_for(staff_user).post("/orders/", body, format="json").status_code

        return call

    calls = [order(a["id"], b["id"]) if i % 2 else order(b["id"], a["id"]) for i in range(30)]
    assert run_parallel(calls, workers=30) == [201] * 30
    assert stock_of(staff_client, a["id"]) == 70
    assert stock_of(staff_client, b["id"]) == 70


def test_concurrent_multi_item_orders_take_all_or_nothing(staff_client, staff_user, mongo):
    a = create_product(staff_client, name="A", stock=100)
    b = create_product(staff_client, name="B", stock=5)

    def order():
        body = {
            "customer": "x",
            "items": [
                {"product_id": a["id"], "quantity": 2},
                {"product_id": b["id"], "quantity": 1},
            ],
        }
        return client_for(staff_user).post("/orders/", body, format="json").status_code

    statuses = run_parallel([order for _ in range(20)], workers=20)
    assert statuses.count(201) == 5
    assert stock_of(staff_client, b["id"]) == 0
    assert stock_of(staff_client, a["id"]) == 100 - 2 * 5
    assert mongo["orders"].count_documents({}) == 5


@override_settings(STOCK_LOCK_WAIT_SECONDS=0.2)
def test_lock_wait_exceeded_is_503_and_nothing_is_written(staff_client, mongo, redis_client):
    product = create_product(staff_client, stock=5)
    held = redis_client.lock(lock_key(product["id"]), timeout=10)
    assert held.acquire(blocking=False)
    try:
        body = {"customer": "x", "items": [{"product_id": product["id"], "quantity": 1}]}
        response = staff_client.post("/orders/", body, format="json")
        assert response.status_code == 503
        assert "lock" in response.json()["detail"]
        assert response["Retry-After"]
        restock = staff_client.post(
            f"/products/{product['id']}/stock/", {"delta": 1}, format="json"
        )
        assert restock.status_code == 503
        patch = staff_client.patch(f"/products/{product['id']}/", {"stock": 1}, format="json")
        assert patch.status_code == 503
    finally:
        held.release()
    assert mongo["orders"].count_documents({}) == 0
    assert stock_of(staff_client, product["id"]) == 5
    assert redis_client.exists(lock_key(product["id"])) == 0
