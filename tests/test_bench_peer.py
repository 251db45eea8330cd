"""bench/peer, the FastAPI reference of bench/overhead.py, does the same store work as shopsite:
same documents, same session check, same order and outbox writes (else the ratios mean little)."""

import json

import anyio.to_thread
import pytest
from django.conf import settings
from fastapi.testclient import TestClient
from rest_framework.test import APIClient

from bench.overhead import phase_customer
from bench.peer import app as peer
from orders.services import order_intents_recover
from orders.summary_repository import DIRTY

pytestmark = pytest.mark.django_db


@pytest.fixture
def clients(staff_token, mongo, monkeypatch):
    monkeypatch.setenv("MONGODB_URI", settings.MONGODB_URI)
    monkeypatch.setenv("MONGODB_DB", settings.MONGODB_DB)
    monkeypatch.setenv("REDIS_URL", settings.REDIS_URL)
    monkeypatch.setattr(peer, "STREAM", settings.EVENT_OUTBOX_STREAM)
    peer._clients.clear()
    ours = APIClient()
    ours.credentials(HTTP_AUTHORIZATION=f"Bearer {staff_token}")
    with TestClient(peer.app, headers={"Authorization": f"Bearer {staff_token}"}) as theirs:
        yield ours, theirs
    peer._clients.clear()


def outbox_types(redis_client) -> list[str]:
    entries = redis_client.xrange(settings.EVENT_OUTBOX_STREAM)
    return [json.loads(fields["event"])["event_type"] for _, fields in entries]


def markers(mongo) -> list:
    """The dirty markers, by their fields (ids differ) and kind."""
    return sorted((sorted(doc), doc["kind"]) for doc in mongo[DIRTY.COLLECTION].find())


def test_peer_does_what_shopsite_does(clients, staff_user, other_staff_user, redis_client, mongo):
    ours, theirs = clients
    body = {"name": "Mug", "category": "kitchen", "price": "7.50", "stock": 20}
    product = ours.post("/products/", body, format="json").json()
    path = f"/products/{product['id']}/"
    assert theirs.get(path).json() == ours.get(path).json()

    session = f"/session/{staff_user.pk}/"
    assert theirs.put(session).json().keys() == ours.put(session).json().keys()
    assert theirs.put(f"/session/{other_staff_user.pk}/").status_code == 403
    assert theirs.put(session, headers={"Authorization": "Bearer nope"}).status_code == 401

    order = {"customer": "ann", "items": [{"product_id": product["id"], "quantity": 2}]}
    redis_client.delete(settings.EVENT_OUTBOX_STREAM)
    mine = ours.post("/orders/", order, format="json")
    assert mine.status_code == 201
    shopsite_events = outbox_types(redis_client)
    shopsite_markers = markers(mongo)
    assert shopsite_markers  # the sales summaries' dirty markers, written by both
    redis_client.delete(settings.EVENT_OUTBOX_STREAM)
    peers = theirs.post("/orders/", json=order)
    assert peers.status_code == 201
    assert outbox_types(redis_client) == shopsite_events == ["order_created", "stock_changed"]
    assert markers(mongo) == sorted(shopsite_markers * 2)
    a, b = mine.json(), peers.json()
    assert a.keys() == b.keys() and a["items"][0].keys() == b["items"][0].keys()
    assert (a["total"], b["total"]) == ("15.00", "15.00")
    assert ours.get(path).json()["stock"] == 16
    docs = list(mongo.orders.find())
    assert len(docs) == 2 and docs[0].keys() == docs[1].keys()
    assert docs[0]["items"][0].keys() == docs[1]["items"][0].keys()
    # The purchase journal: both decided "commit" and listed their intent as finished; the
    # recovery settles both (stock marks cleared, intents forgotten).
    outcomes = list(mongo.order_intent_outcomes.find())
    assert [o["outcome"] for o in outcomes] == ["commit", "commit"]
    assert outcomes[0].keys() == outcomes[1].keys()
    assert mongo.order_intents.count_documents({}) == 2
    assert order_intents_recover(older_than_seconds=3600)["settled"] == 2
    assert mongo.order_intents.count_documents({}) == 0
    assert mongo.products.find_one()["stock_marks"] == []

    too_many = {"customer": "ann", "items": [{"product_id": product["id"], "quantity": 99}]}
    assert theirs.post("/orders/", json=too_many).status_code == 409


def test_peer_serves_as_many_requests_at_once_as_it_is_told(monkeypatch):
    """bench/overhead.py gives the peer shopsite's threads per worker (PEER_THREADS): FastAPI's
    sync endpoints run in anyio's thread pool, 40 threads unless set."""
    monkeypatch.setattr(peer, "THREADS", 4)

    async def tokens():
        return {"tokens": anyio.to_thread.current_default_thread_limiter().total_tokens}

    peer.app.add_api_route("/_test/threads/", tokens)
    try:
        with TestClient(peer.app) as client:
            assert client.get("/_test/threads/").json() == {"tokens": 4}
    finally:
        peer.app.router.routes.pop()


def test_each_overhead_phase_orders_for_a_customer_of_its_own():
    assert len({phase_customer() for _ in range(3)}) == 3
