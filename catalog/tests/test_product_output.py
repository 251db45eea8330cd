"""catalog.serializers.product_out (the products API's output, built directly for speed) says
exactly what ProductOutputSerializer (the documented schema) would, field for field, in order."""

from datetime import UTC, datetime

import pytest
from bson import ObjectId

from catalog.repository import find_by_id
from catalog.serializers import ProductOutputSerializer, product_out
from catalog.tests.helpers import create_product

pytestmark = pytest.mark.usefixtures("mongo")


def doc(**changes) -> dict:
    base = {
        "_id": ObjectId(),
        "name": "Mug",
        "name_lower": "mug",
        "category": "kitchen",
        "price_cents": 1999,
        "stock": 7,
        "available": True,
        "description": "A mug.",
        "created_at": datetime(2026, 3, 1, 12, 30, 5, 123000, tzinfo=UTC),
        "updated_at": datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
        "stock_marks": ["x:1"],
        "stock_fence": 12,
    }
    return base | changes


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"price_cents": 0, "stock": 0, "available": False, "description": ""},
        {"price_cents": 100_000_000_000, "stock": 1_000_000_000},
        {"name": "Ünïcode ☕", "description": "x" * 5000},
        {"created_at": datetime(2026, 3, 1, 12, 30, 5, 999999, tzinfo=UTC)},
        {"description": None},
    ],
    ids=["plain", "zeros", "largest", "unicode", "microseconds", "null"],
)
def test_the_same_as_the_serializer(changes):
    product = doc(**changes)
    expected = ProductOutputSerializer(product).data
    assert list(product_out(product).items()) == list(expected.items())


def test_the_api_answers_with_it(staff_client):
    created = create_product(staff_client, name="Lamp", category="home", price="19.99", stock=3)
    stored = ProductOutputSerializer(find_by_id(ObjectId(created["id"]))).data
    assert created == stored
    assert staff_client.get(f"/products/{created['id']}/").json() == stored
    assert staff_client.get("/products/?category=home").json()["results"] == [stored]
