"""bench/overhead.py's peers (bench/peer/) against shopsite on the same stores: a purchase
stores the same order document and queues the same events; the faithful peer also writes the
purchase's journal as shopsite does (intent, the ledger's commit entry, the finished set, the
marks the recovery settles); a page of a category is the same page."""

import json

import anyio.to_thread
import pytest
from django.conf import settings
from fastapi.testclient import TestClient
from rest_framework.test import APIClient

from bench.peer import app as faithful
from bench.peer import common, seed
from orders.services import order_intents_recover

pytestmark = pytest.mark.django_db


@pytest.fixture
def clients(staff_token, mongo, redis_client, monkeypatch):
    monkeypatch.setenv("MONGODB_URI", settings.MONGODB_URI)
    monkeypatch.setenv("MONGODB_DB", settings.MONGODB_DB)
    monkeypatch.setenv("REDIS_URL", settings.REDIS_URL)
    monkeypatch.setattr(common, "STREAM", settings.EVENT_OUTBOX_STREAM)
    common._clients.clear()
    ours = APIClient()
    ours.credentials(HTTP_AUTHORIZATION=f"Bearer {staff_token}")
    auth = {"Authorization": f"Bearer {staff_token}"}
    with (
        TestClient(faithful.app, headers=auth) as theirs,
        TestClient(seed.app, headers=auth) as seeds,
    ):
        yield ours, theirs, seeds
    common._clients.clear()


def outbox_types(redis_client) -> list[str]:
    entries = redis_client.xrange(settings.EVENT_OUTBOX_STREAM)
    redis_client.delete(settings.EVENT_OUTBOX_STREAM)
    return [json.loads(fields["event"])["event_type"] for _, fields in entries]


@pytest.mark.parametrize("peer", ["faithful", "seed"])
def test_a_peers_purchase_stores_what_shopsites_does(clients, redis_client, mongo, peer):
    ours, theirs, seeds = clients
    app = theirs if peer == "faithful" else seeds
    body = {"name": "Mug", "category": "kitchen", "price": "7.50", "stock": 20}
    product = ours.post("/products/", body, format="json").json()
    order = {"customer": "ann", "items": [{"product_id": product["id"], "quantity": 2}]}
    redis_client.delete(settings.EVENT_OUTBOX_STREAM)
    mine = ours.post("/orders/", order, format="json")
    assert mine.status_code == 201
    assert outbox_types(redis_client) == ["order_created", "stock_changed"]
    peers = app.post("/orders/", json=order)
    assert peers.status_code == 201
    assert outbox_types(redis_client) == ["order_created", "stock_changed"]
    assert peers.json().keys() == mine.json().keys()
    assert peers.json()["total"] == mine.json()["total"] == "15.00"
    docs = list(mongo.orders.find())
    assert len(docs) == 2 and docs[0].keys() == docs[1].keys()
    assert docs[0]["items"][0] == docs[1]["items"][0]
    assert mongo.products.find_one()["stock"] == 16
    ledger = list(mongo.sales_ledger.find())
    journal = 2 if peer == "faithful" else 1
    assert len(ledger) == mongo.order_intents.count_documents({}) == journal
    if peer == "faithful":
        assert ledger[0].keys() == ledger[1].keys()
        assert order_intents_recover(older_than_seconds=3600)["settled"] == 2
        assert mongo.products.find_one()["stock_marks"] == []
    assert not redis_client.keys("stock-lock:*")
    too_many = {"customer": "ann", "items": [{"product_id": product["id"], "quantity": 99}]}
    refused = app.post("/orders/", json=too_many)
    assert refused.status_code == 409 and refused.json()["available"] == 16
    assert mongo.products.find_one()["stock"] == 16


def test_a_page_of_a_category_is_the_same_page(clients):
    ours, theirs, seeds = clients
    body = [
        {"name": f"P{i}", "category": "kitchen" if i % 3 else "garden", "price": "1.25", "stock": i}
        for i in range(9)
    ]
    assert ours.post("/products/", body, format="json").status_code == 201
    query = "/products/?category=kitchen&page_size=4"
    mine = ours.get(query).json()
    assert mine["count"] == 6 and len(mine["results"]) == 4
    for app in (theirs, seeds):
        page = app.get(query).json()
        assert page["count"] == mine["count"]
        assert page["results"] == mine["results"]
        assert (page["next"] is None) == (mine["next"] is None)


def test_peers_serve_as_many_requests_at_once_as_they_are_told(monkeypatch):
    """bench/overhead.py gives the peers shopsite's threads per worker (PEER_THREADS): FastAPI's
    sync endpoints run in anyio's thread pool, 40 threads unless set."""
    monkeypatch.setattr(common, "THREADS", 4)

    async def tokens():
        return {"tokens": anyio.to_thread.current_default_thread_limiter().total_tokens}

    for app in (faithful.app, seed.app):
        app.add_api_route("/_test/threads/", tokens)
        try:
            with TestClient(app) as client:
                assert client.get("/_test/threads/").json() == {"tokens": 4}
        finally:
            app.router.routes.pop()
