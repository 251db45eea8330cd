"""Fulfil and cancel (api-contract.md, Orders): the stock back exactly once, the conflicts, the
status filter, the figures and the events, against the real services. Kill points:
test_lifecycle_crash.py."""

import json
import threading
from datetime import timedelta

import pytest
from bson import ObjectId
from rest_framework.test import APIClient

from catalog.tests.helpers import create_product, events
from eventlog.manager import get_log_manager
from eventlog.worker import OutboxWorker
from orders import lifecycle, repository, sales, services
from shopsite.timeutil import day_key, hour_key, minute_key, utcnow

pytestmark = pytest.mark.usefixtures("mongo", "redis_client", "summaries")

UNKNOWN = str(ObjectId())
STATUS_FIELDS = {"status", "fulfilled_at", "cancelled_at", "cancel_reason"}


@pytest.fixture
def summaries(mongo):
    """The emptied store's sales summaries built (as init_mongo leaves a new shop)."""
    services.sales_summaries_refresh()


def stock_of(client, product) -> int:
    return client.get(f"/products/{product['id']}/").json()["stock"]


def place(client, customer="Ada", lines=(), key=None):
    body = {
        "customer": customer,
        "items": [{"product_id": p["id"], "quantity": q} for p, q in lines],
    }
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    response = client.post("/orders/", body, format="json", **headers)
    assert response.status_code == 201, response.content
    return response


def cancel(client, order_id, body=None):
    return client.post(f"/orders/{order_id}/cancel/", body or {}, format="json")


def fulfil(client, order_id):
    return client.post(f"/orders/{order_id}/fulfil/", format="json")


def three_products(client, stock=10):
    return [
        create_product(client, name=name, category="kitchen", price="2.50", stock=stock)
        for name in ("Mug", "Bowl", "Plate")
    ]


def test_cancel_returns_each_items_stock_and_again_nothing(staff_client, staff_user, mongo):
    mug, bowl, plate = three_products(staff_client)
    order = place(staff_client, lines=[(mug, 1), (bowl, 2), (plate, 3)]).json()
    assert [stock_of(staff_client, p) for p in (mug, bowl, plate)] == [9, 8, 7]

    response = cancel(staff_client, order["id"], {"reason": "changed her mind"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "cancelled"
    assert body["cancel_reason"] == "changed her mind"
    assert body["cancelled_at"].endswith("Z") and body["fulfilled_at"] is None
    assert [stock_of(staff_client, p) for p in (mug, bowl, plate)] == [10, 10, 10]
    stored = mongo["orders"].find_one({"_id": ObjectId(order["id"])})
    assert stored["status"] == "cancelled"

    again = cancel(staff_client, order["id"], {"reason": "another reason"})
    assert again.status_code == 200
    assert again.json() == body  # unchanged: the first reason and time stay
    assert [stock_of(staff_client, p) for p in (mug, bowl, plate)] == [10, 10, 10]
    assert staff_client.get(f"/orders/{order['id']}/").json() == body


def test_same_product_on_two_lines_gets_the_sum_back(staff_client):
    mug = create_product(staff_client, stock=10)
    order = place(staff_client, lines=[(mug, 2), (mug, 3)]).json()
    assert stock_of(staff_client, mug) == 5
    assert cancel(staff_client, order["id"]).status_code == 200
    assert stock_of(staff_client, mug) == 10


def test_cancel_without_body_or_reason_leaves_reason_null(staff_client):
    mug = create_product(staff_client, stock=10)
    order = place(staff_client, lines=[(mug, 1)]).json()
    response = staff_client.post(f"/orders/{order['id']}/cancel")  # no body, no slash
    assert response.status_code == 200, response.content
    assert response.json()["cancel_reason"] is None
    other = place(staff_client, lines=[(mug, 1)]).json()
    assert cancel(staff_client, other["id"], {"reason": ""}).json()["cancel_reason"] is None


def test_twenty_concurrent_cancels_return_the_stock_once(
    staff_client, staff_user, redis_client, cassandra_keyspace
):
    get_log_manager().truncate()
    mug, bowl, plate = three_products(staff_client)
    order = place(staff_client, lines=[(mug, 1), (bowl, 2), (plate, 3)]).json()
    start = threading.Barrier(20)
    answers, errors = [], []

    def one():
        start.wait()
        try:
            answers.append(services.order_cancel(order_id=order["id"], user_id=staff_user.pk))
        except Exception as exc:  # any failure is reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert {a["status"] for a in answers} == {"cancelled"}
    assert [stock_of(staff_client, p) for p in (mug, bowl, plate)] == [10, 10, 10]
    given_back = [
        json.loads(e["metadata"])
        for e in events(redis_client, "stock_changed")
        if json.loads(e["metadata"]).get("reason") == "order_cancelled"
    ]
    assert len(given_back) == 3
    # Racers may queue the event again, always under the decision's id: the log keeps one.
    queued = events(redis_client, "order_cancelled")
    assert len({e["event_id"] for e in queued}) == 1
    OutboxWorker(block_ms=10).drain(timeout=60)
    logged = get_log_manager().recent("order_cancelled", hours=1, limit=100)
    assert [json.loads(e.metadata)["order_id"] for e in logged] == [order["id"]]


def test_a_cancel_that_lost_the_race_gives_nothing_back(staff_client, staff_user):
    """What a losing racer does: it read the order while still placed, the winner finished the
    cancel (and forgot its stock marks), then the loser gets the winner's decision and carries
    it out again: nothing more goes back."""
    mug = create_product(staff_client, stock=10)
    order = place(staff_client, lines=[(mug, 4)]).json()
    placed = repository.find_by_id(ObjectId(order["id"]))
    services.order_cancel(order_id=order["id"], user_id=staff_user.pk, reason="first")
    assert stock_of(staff_client, mug) == 10

    decision = sales.status_decide(placed, "cancelled", at=utcnow(), reason="second", user_id=1)
    assert decision["reason"] == "first"
    lifecycle.finish(decision)
    assert stock_of(staff_client, mug) == 10
    assert staff_client.get(f"/orders/{order['id']}/").json()["cancel_reason"] == "first"


def test_fulfil_and_cancel_conflict(staff_client):
    mug = create_product(staff_client, stock=10)
    first = place(staff_client, lines=[(mug, 1)]).json()
    done = fulfil(staff_client, first["id"])
    assert done.status_code == 200
    assert done.json()["status"] == "fulfilled"
    assert done.json()["fulfilled_at"].endswith("Z") and done.json()["cancelled_at"] is None
    again = fulfil(staff_client, first["id"])
    assert again.status_code == 200 and again.json() == done.json()
    refused = cancel(staff_client, first["id"], {"reason": "too late"})
    assert refused.status_code == 409
    assert refused.json()["status"] == "fulfilled" and "detail" in refused.json()
    assert stock_of(staff_client, mug) == 9

    second = place(staff_client, lines=[(mug, 2)]).json()
    assert cancel(staff_client, second["id"]).status_code == 200
    refused = fulfil(staff_client, second["id"])
    assert refused.status_code == 409
    assert refused.json()["status"] == "cancelled"
    assert staff_client.get(f"/orders/{second['id']}/").json()["status"] == "cancelled"
    assert stock_of(staff_client, mug) == 9


def test_product_deleted_before_the_cancel_gets_nothing_back(staff_client):
    mug, bowl, _ = three_products(staff_client)
    order = place(staff_client, lines=[(mug, 2), (bowl, 3)]).json()
    assert staff_client.delete(f"/products/{mug['id']}/").status_code == 204
    response = cancel(staff_client, order["id"])
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    assert staff_client.get(f"/products/{mug['id']}/").status_code == 404
    assert stock_of(staff_client, bowl) == 10


@pytest.mark.parametrize(
    "body, field",
    [({"reason": "r" * 501}, "reason"), ({"reason": 5}, "reason"), ({"reason": ["a"]}, "reason")],
)
def test_bad_cancel_body_is_400_naming_reason(staff_client, body, field):
    mug = create_product(staff_client, stock=10)
    order = place(staff_client, lines=[(mug, 1)]).json()
    response = cancel(staff_client, order["id"], body)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert staff_client.get(f"/orders/{order['id']}/").json()["status"] == "placed"
    assert stock_of(staff_client, mug) == 9
    assert cancel(staff_client, order["id"], {"reason": "r" * 500}).status_code == 200


@pytest.mark.parametrize("bad", [UNKNOWN, "nope", "0" * 23, "z" * 24])
@pytest.mark.parametrize("action", ["fulfil", "cancel"])
def test_unknown_or_malformed_id_is_404(staff_client, bad, action):
    response = staff_client.post(f"/orders/{bad}/{action}/", {}, format="json")
    assert response.status_code == 404
    assert "detail" in response.json()


@pytest.mark.parametrize("action", ["fulfil", "cancel"])
def test_anonymous_is_401_and_non_staff_403(staff_client, anon_client, plain_user, action):
    mug = create_product(staff_client, stock=10)
    order = place(staff_client, lines=[(mug, 1)]).json()
    assert anon_client.post(f"/orders/{order['id']}/{action}/").status_code == 401
    anon_client.force_authenticate(plain_user)
    assert anon_client.post(f"/orders/{order['id']}/{action}/").status_code == 403
    assert staff_client.get(f"/orders/{order['id']}/").json()["status"] == "placed"
    assert stock_of(staff_client, mug) == 9


def test_status_filter_with_days_and_customer(staff_client):
    mug = create_product(staff_client, stock=100)
    ada_placed = place(staff_client, "Ada", [(mug, 1)]).json()
    ada_done = place(staff_client, "Ada", [(mug, 1)]).json()
    bob_gone = place(staff_client, "Bob", [(mug, 1)]).json()
    ada_gone = place(staff_client, "Ada", [(mug, 1)]).json()
    fulfil(staff_client, ada_done["id"])
    cancel(staff_client, bob_gone["id"])
    cancel(staff_client, ada_gone["id"])

    def ids(query):
        response = staff_client.get("/orders/?" + query)
        assert response.status_code == 200, response.content
        return {o["id"] for o in response.json()["results"]}, response.json()["count"]

    assert ids("status=placed") == ({ada_placed["id"]}, 1)
    assert ids("status=fulfilled&days=1") == ({ada_done["id"]}, 1)
    assert ids("status=cancelled") == ({bob_gone["id"], ada_gone["id"]}, 2)
    assert ids("status=cancelled&customer=Ada&days=7") == ({ada_gone["id"]}, 1)
    assert ids("customer=Ada") == ({ada_placed["id"], ada_done["id"], ada_gone["id"]}, 3)
    csv = staff_client.get("/orders/?status=cancelled&format=csv")
    lines = b"".join(csv.streaming_content).decode().splitlines()
    assert "status" in lines[0].split(",")
    assert len(lines) == 3 and all(",cancelled" in line for line in lines[1:])


@pytest.mark.parametrize("value", ["open", "Placed", "", "cancelled,placed"])
def test_other_status_values_are_400_naming_status(staff_client, value):
    response = staff_client.get("/orders/", {"status": value})
    assert response.status_code == 400
    assert "status" in response.json()["errors"]


def test_every_representation_carries_the_status_fields(staff_client):
    mug = create_product(staff_client, stock=10)
    created = place(staff_client, lines=[(mug, 1)], key="rep-1")
    replay = place(staff_client, lines=[(mug, 1)], key="rep-1")
    assert replay.headers["Idempotent-Replayed"] == "true"
    bodies = [
        created.json(),
        replay.json(),
        staff_client.get(f"/orders/{created.json()['id']}/").json(),
        *staff_client.get("/orders/").json()["results"],
        *staff_client.get("/orders/recent/").json(),
    ]
    for body in bodies:
        assert set(body) >= STATUS_FIELDS
        assert (body["status"], body["fulfilled_at"], body["cancelled_at"]) == (
            "placed",
            None,
            None,
        )
        assert body["cancel_reason"] is None


def test_replay_after_a_cancel_answers_the_original_201(staff_client):
    """The contract: a replay answers "the first successful response again (same status and
    body)", whatever happened to the order since."""
    mug = create_product(staff_client, stock=10)
    first = place(staff_client, lines=[(mug, 2)], key="replay-cancel")
    assert cancel(staff_client, first.json()["id"], {"reason": "x"}).status_code == 200
    replay = place(staff_client, lines=[(mug, 2)], key="replay-cancel")
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    assert stock_of(staff_client, mug) == 10


def test_stats_leave_a_cancelled_order_out_at_once(staff_client):
    mug = create_product(staff_client, price="3.00", stock=100)
    place(staff_client, "Ada", [(mug, 2)])
    ada_gone = place(staff_client, "Ada", [(mug, 5)]).json()
    bob = place(staff_client, "Bob", [(mug, 1)]).json()
    sold = staff_client.get("/stats/sold/").json()
    assert (sold["orders"], sold["total_quantity"], sold["revenue"]) == (3, 8, "24.00")

    assert cancel(staff_client, ada_gone["id"]).status_code == 200
    sold = staff_client.get("/stats/sold/", {"by": "product"}).json()
    assert (sold["orders"], sold["total_quantity"], sold["revenue"]) == (2, 3, "9.00")
    assert sold["breakdown"][0]["quantity"] == 3
    ada = staff_client.get("/stats/customer/Ada").json()
    assert (ada["orders"], ada["total_spent"]) == (1, "6.00")

    assert cancel(staff_client, bob["id"]).status_code == 200
    assert staff_client.get("/stats/customer/Bob").status_code == 404
    # A fulfilled order is still a sale.
    cy = place(staff_client, "Cy", [(mug, 1)]).json()
    assert fulfil(staff_client, cy["id"]).status_code == 200
    assert staff_client.get("/stats/customer/Cy").json()["orders"] == 1


def test_events_carry_the_staff_member_and_the_order(staff_client, staff_user, redis_client):
    mug = create_product(staff_client, stock=10)
    first = place(staff_client, "Ada", [(mug, 1)]).json()
    second = place(staff_client, "Bob", [(mug, 1)]).json()
    fulfil(staff_client, first["id"])
    fulfil(staff_client, first["id"])  # unchanged: no second event
    cancel(staff_client, second["id"], {"reason": "duplicate"})
    cancel(staff_client, second["id"])
    fulfilled = events(redis_client, "order_fulfilled")
    cancelled = events(redis_client, "order_cancelled")
    assert len(fulfilled) == len(cancelled) == 1
    assert fulfilled[0]["user_id"] == cancelled[0]["user_id"] == str(staff_user.pk)
    assert json.loads(fulfilled[0]["metadata"])["order_id"] == first["id"]
    metadata = json.loads(cancelled[0]["metadata"])
    assert metadata["order_id"] == second["id"] and metadata["reason"] == "duplicate"


def test_order_stored_before_statuses_reads_placed_and_can_be_cancelled(staff_client, mongo):
    """An order document of before this change (no `status`), as a restore may bring back."""
    mug = create_product(staff_client, price="4.00", stock=7)  # 3 already taken by the order
    created_at = utcnow().replace(microsecond=0) - timedelta(hours=2)
    doc = {
        "customer": "Old",
        "created_at": created_at,
        "day": day_key(created_at),
        "hour": hour_key(created_at),
        "minute": minute_key(created_at),
        "items": [
            {"product_id": mug["id"], "name": "Blue Mug", "category": "kitchen",
             "unit_price_cents": 400, "quantity": 3, "line_total_cents": 1200}
        ],
        "total_cents": 1200,
        "quantity": 3,
        "created_by": "",
    }  # fmt: skip
    oid = repository.orders().insert_one(doc).inserted_id
    services.sales_summaries_invalidate()  # as after a restore: rebuilt from the orders
    services.sales_summaries_refresh()

    got = staff_client.get(f"/orders/{oid}/").json()
    assert (got["status"], got["cancelled_at"], got["cancel_reason"]) == ("placed", None, None)
    assert staff_client.get("/orders/?status=placed").json()["count"] == 1
    assert staff_client.get("/stats/customer/Old").json()["orders"] == 1

    response = cancel(staff_client, str(oid), {"reason": "old"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    assert stock_of(staff_client, mug) == 10
    assert staff_client.get("/stats/customer/Old").status_code == 404
    assert staff_client.get("/orders/?status=cancelled").json()["count"] == 1


def test_openapi_documents_fulfil_cancel_and_the_status_filter(staff_client):
    schema = staff_client.get("/openapi.json").json()
    paths = schema["paths"]
    fulfil_op = paths["/orders/{order_id}/fulfil/"]["post"]
    cancel_op = paths["/orders/{order_id}/cancel/"]["post"]
    assert {"200", "401", "403", "404", "409", "503"} <= set(fulfil_op["responses"])
    assert "400" not in fulfil_op["responses"]  # no body, nothing to reject
    assert {"200", "400", "401", "403", "404", "409", "503"} <= set(cancel_op["responses"])
    body = cancel_op["requestBody"]["content"]["application/json"]["schema"]
    ref = body["$ref"].rsplit("/", 1)[1]
    reason = schema["components"]["schemas"][ref]["properties"]["reason"]
    assert reason["maxLength"] == 500
    listed = {p["name"]: p for p in paths["/orders/"]["get"]["parameters"]}
    assert listed["status"]["schema"]["enum"] == ["placed", "fulfilled", "cancelled"]
    order = schema["components"]["schemas"]["OrderOutput"]["properties"]
    assert set(order) >= STATUS_FIELDS


def test_a_second_staff_member_sees_the_first_ones_cancel(staff_client, other_staff_user):
    mug = create_product(staff_client, stock=10)
    order = place(staff_client, lines=[(mug, 3)]).json()
    other = APIClient()
    other.force_authenticate(other_staff_user)
    assert cancel(other, order["id"]).json()["status"] == "cancelled"
    assert cancel(staff_client, order["id"]).status_code == 200
    assert stock_of(staff_client, mug) == 10
