"""Idempotency-Key on POST /orders/ (api-contract.md): replay, mismatch, per user, failures
not remembered, bulk, malformed keys. Concurrency and crashes: test_crash_safety.py."""

import pytest
from rest_framework.test import APIClient

from catalog.tests.helpers import create_product, events
from orders import purchase_repository, services
from orders.api import body_fingerprint

pytestmark = pytest.mark.usefixtures("mongo", "redis_client")


def place(client, body, key=None):
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return client.post("/orders/", body, format="json", **headers)


def order_body(product, quantity=2, customer="Ada"):
    return {"customer": customer, "items": [{"product_id": product["id"], "quantity": quantity}]}


def stock_of(client, product) -> int:
    return client.get(f"/products/{product['id']}/").json()["stock"]


def test_retry_with_same_key_and_body_replays_the_order(staff_client, mongo, redis_client):
    product = create_product(staff_client, stock=10)
    first = place(staff_client, order_body(product), key="k-1")
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    again = place(staff_client, order_body(product), key="k-1")
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert stock_of(staff_client, product) == 8
    assert mongo["orders"].count_documents({}) == 1
    assert len(events(redis_client, "order_created")) == 1
    services.order_intents_recover(older_than_seconds=3600)  # settles finished purchases
    assert purchase_repository.intent_count() == 0


def test_same_key_other_body_is_422(staff_client, mongo):
    product = create_product(staff_client, stock=10)
    assert place(staff_client, order_body(product), key="k-2").status_code == 201
    other = place(staff_client, order_body(product, quantity=3), key="k-2")
    assert other.status_code == 422
    assert "Idempotency-Key" in other.json()["detail"]
    assert stock_of(staff_client, product) == 8


def test_keys_are_per_user(staff_client, other_staff_user, mongo):
    product = create_product(staff_client, stock=10)
    other = APIClient()
    other.force_authenticate(other_staff_user)
    a = place(staff_client, order_body(product), key="shared")
    b = place(other, order_body(product), key="shared")
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]
    assert "Idempotent-Replayed" not in b.headers
    assert stock_of(staff_client, product) == 6


def test_a_failed_request_is_not_remembered(staff_client, mongo):
    product = create_product(staff_client, stock=1)
    refused = place(staff_client, order_body(product, quantity=2), key="k-3")
    assert refused.status_code == 409
    restock = staff_client.post(f"/products/{product['id']}/stock/", {"delta": 5}, format="json")
    assert restock.status_code == 200
    placed = place(staff_client, order_body(product, quantity=2), key="k-3")
    assert placed.status_code == 201
    assert "Idempotent-Replayed" not in placed.headers
    assert stock_of(staff_client, product) == 4
    services.order_intents_recover(older_than_seconds=3600)  # settles finished purchases
    assert purchase_repository.intent_count() == 0


def test_bulk_lists_replay_whole(staff_client, mongo):
    mug = create_product(staff_client, name="Mug", stock=10)
    pot = create_product(staff_client, name="Pot", stock=10)
    body = [order_body(mug, 1, "Ada"), order_body(pot, 2, "Bob")]
    first = place(staff_client, body, key="bulk-key")
    assert first.status_code == 201 and len(first.json()) == 2
    again = place(staff_client, body, key="bulk-key")
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert mongo["orders"].count_documents({}) == 2
    assert (stock_of(staff_client, mug), stock_of(staff_client, pot)) == (9, 8)
    # A single order with the bulk list's key is another body.
    assert place(staff_client, body[0], key="bulk-key").status_code == 422


@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "tab\tkey", "caf\u00e9"])
def test_malformed_keys_are_400_naming_the_header(staff_client, mongo, key):
    product = create_product(staff_client, stock=10)
    response = place(staff_client, order_body(product), key=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]
    assert stock_of(staff_client, product) == 10
    assert mongo["orders"].count_documents({}) == 0


def test_longest_and_symbol_keys_are_accepted(staff_client, mongo):
    product = create_product(staff_client, stock=10)
    for key in ("k" * 255, "!~#$%&'*+-.^_`|"):
        assert place(staff_client, order_body(product), key=key).status_code == 201


def test_in_progress_key_is_409(staff_client, staff_user, mongo, redis_client):
    """A claim held by a running request: another request with the key gets 409."""
    product = create_product(staff_client, stock=10)
    key = services.idempotency_record_key(user_id=staff_user.pk, key="busy")
    body = order_body(product)
    pending = {"state": "pending", "fingerprint": body_fingerprint(body), "token": "t"}
    purchase_repository.idempotency_claim(key, pending, ttl=60)
    response = place(staff_client, body, key="busy")
    assert response.status_code == 409
    assert stock_of(staff_client, product) == 10
    purchase_repository.idempotency_release(key, "t")
    assert place(staff_client, body, key="busy").status_code == 201


def test_without_a_key_every_request_is_a_purchase(staff_client, mongo):
    product = create_product(staff_client, stock=10)
    assert place(staff_client, order_body(product)).status_code == 201
    assert place(staff_client, order_body(product)).status_code == 201
    assert stock_of(staff_client, product) == 6


def test_openapi_documents_the_header_and_codes(staff_client):
    schema = staff_client.get("/openapi.json")
    assert schema.status_code == 200
    post = schema.json()["paths"]["/orders/"]["post"]
    names = [p["name"] for p in post["parameters"]]
    assert "Idempotency-Key" in names
    assert {"400", "409", "422"} <= set(post["responses"])
    assert "Idempotent-Replayed" in post["responses"]["201"]["headers"]
