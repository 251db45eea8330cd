"""The sales summaries' dirty markers cost one insert command before an insert of orders and one
after it, whatever the hours and customers (seen on the wire with pymongo's command monitoring);
each marker is still a document of its own; init_mongo drops the marker collections of earlier
versions."""

from datetime import UTC, datetime, timedelta

import pytest

from orders import repository, services, summaries
from orders import summary_repository as store
from orders.tests.conftest import Commands, on_the_wire
from shopsite.management.commands.init_mongo import init_mongo

pytestmark = pytest.mark.django_db


@pytest.fixture
def inserts(mongo, monkeypatch):
    listener = Commands()
    with on_the_wire(listener, monkeypatch):
        yield listener


def around_orders(listener: Commands) -> list[tuple[str, list[dict]]]:
    """The insert commands on the markers and the orders, in order: (collection, documents)."""
    wanted = {store.DIRTY.COLLECTION, repository.COLLECTION}
    inserts = [body for name, body in listener.seen if name == "insert"]
    return [(body["insert"], body["documents"]) for body in inserts if body["insert"] in wanted]


def test_a_purchase_inserts_its_markers_in_one_command_before_and_one_after(
    inserts, staff_client, product_ids
):
    body = {"customer": "Ada", "items": [{"product_id": product_ids[0], "quantity": 2}]}
    response = staff_client.post("/orders/", body, format="json")
    assert response.status_code == 201, response.content
    order_id = repository.parse_id(response.json()["id"])

    [(before, pending), (orders, placed), (after, done)] = around_orders(inserts)
    assert (before, orders, after) == (store.DIRTY.COLLECTION, "orders", store.DIRTY.COLLECTION)
    assert [doc["_id"] for doc in placed] == [order_id]
    hour = placed[0]["hour"]
    assert [(m["kind"], m.get("hour"), m.get("customer"), m["orders"]) for m in pending] == [
        ("hour", hour, None, [order_id]),
        ("customer", None, "Ada", [order_id]),
    ]
    assert [(m["kind"], m.get("hour"), m.get("customer"), "orders" in m) for m in done] == [
        ("hour", hour, None, False),
        ("customer", None, "Ada", False),
    ]
    assert len({m["_id"] for m in pending + done}) == 4  # each its own document
    assert store.dirty_hours() == {hour} and store.dirty_customer_names() == {"Ada"}
    summaries.refresh_all()
    assert store.DIRTY.collection().count_documents({}) == 0


def test_a_bulk_insert_over_several_hours_and_customers_is_still_two_commands(inserts, product_ids):
    start = datetime(2026, 5, 6, 10, 30, tzinfo=UTC)
    orders = [
        {
            "customer": ["Ada", "Bob", "Cy"][n % 3],
            "created_at": start + timedelta(minutes=20 * n),
            "items": [{"product_id": product_ids[n % 4], "quantity": 1}],
        }
        for n in range(7)
    ]
    placed = services.orders_place_bulk(orders=orders, user_id=None)
    hours = {order["created_at"].strftime("%Y-%m-%dT%H") for order in placed}
    assert len(hours) == 3

    [(_, pending), (_, stored), (_, done)] = around_orders(inserts)
    assert len(stored) == 7
    ids = sorted(order["_id"] for order in stored)
    assert sorted(m["hour"] for m in pending if m["kind"] == "hour") == sorted(hours)
    assert sorted(m["customer"] for m in pending if m["kind"] == "customer") == ["Ada", "Bob", "Cy"]
    assert sorted(i for m in pending if m["kind"] == "hour" for i in m["orders"]) == ids
    assert sorted(i for m in pending if m["kind"] == "customer" for i in m["orders"]) == ids
    assert len(done) == len(pending) == 6 and not any("orders" in m for m in done)


def test_a_key_is_dirty_until_a_recompute_saw_each_of_its_markers(mongo):
    """The markers of hours and customers share a collection, not their keys: a customer named
    like an hour is a customer only."""
    hour = "2026-05-06T10"
    store.mark_dirty(hours=[hour], customers=[hour])
    assert store.dirty_hours() == {hour} and store.dirty_customer_names() == {hour}
    assert [m["hour"] for m in store.day_hour_markers(hour[:10])[hour]] == [hour]
    assert len(store.hour_markers(hour)) == len(store.customer_markers(hour)) == 1
    summaries.refresh_all()
    assert store.dirty_hours() == set() and store.dirty_customer_names() == set()


def test_init_mongo_drops_the_marker_collections_of_earlier_versions(mongo):
    for name in store.OBSOLETE:
        mongo[name].insert_one({"hour": "2026-01-01T00", "day": "2026-01-01"})
    init_mongo()
    init_mongo()  # nothing left to drop: fine
    assert not set(store.OBSOLETE) & set(mongo.list_collection_names())
    assert store.DIRTY.COLLECTION in mongo.list_collection_names()
