"""Shared helpers for catalog and orders tests."""

import json

from django.conf import settings


def product_body(**overrides) -> dict:
    body = {"name": "Blue Mug", "category": "kitchen", "price": "7.50", "stock": 10}
    body.update(overrides)
    return body


def create_product(client, **overrides) -> dict:
    response = client.post("/products/", product_body(**overrides), format="json")
    assert response.status_code == 201, response.content
    return response.json()


def events(redis_client, event_type: str | None = None) -> list[dict]:
    """Events queued in the outbox by event_record, oldest first."""
    entries = redis_client.xrange(settings.EVENT_OUTBOX_STREAM)
    found = [json.loads(fields["event"]) for _, fields in entries]
    return [e for e in found if event_type is None or e["event_type"] == event_type]


def assert_anonymous_401_then_403(client, user, method: str, path: str, collection) -> None:
    """Anonymous: 401; signed in without staff rights: 403; and nothing written to `collection`."""
    response = getattr(client, method)(path, {}, format="json")
    assert response.status_code == 401
    client.force_authenticate(user)
    response = getattr(client, method)(path, {}, format="json")
    assert response.status_code == 403
    assert collection.count_documents({}) == 0
