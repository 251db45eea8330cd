"""Products API: restock and correct, deleting unavailable products, access rules, paths, events
and the schema (create, list, get, patch: test_products_api.py)."""

import json

import pytest
from bson import ObjectId

from catalog.tests.helpers import (
    assert_anonymous_401_then_403,
    create_product,
    events,
    product_body,
)

pytestmark = pytest.mark.usefixtures("mongo", "redis_client")

UNKNOWN = str(ObjectId())


def test_restock_and_correct(staff_client, redis_client, staff_user):
    product = create_product(staff_client, stock=2)
    url = f"/products/{product['id']}/stock/"
    response = staff_client.post(url, {"delta": 5}, format="json")
    assert response.status_code == 200
    assert response.json()["stock"] == 7
    assert staff_client.post(url.rstrip("/"), {"delta": -7}, format="json").json()["stock"] == 0
    changes = [json.loads(e["metadata"]) for e in events(redis_client, "stock_changed")]
    assert [(c["delta"], c["stock"]) for c in changes] == [(5, 7), (-7, 0)]
    assert events(redis_client, "stock_changed")[0]["user_id"] == str(staff_user.pk)


def test_restock_below_zero_is_409_and_changes_nothing(staff_client):
    product = create_product(staff_client, stock=2)
    response = staff_client.post(f"/products/{product['id']}/stock/", {"delta": -3}, format="json")
    assert response.status_code == 409
    assert response.json() == {
        "detail": response.json()["detail"],
        "product_id": product["id"],
        "available": 2,
    }
    assert staff_client.get(f"/products/{product['id']}/").json()["stock"] == 2


def test_restock_above_maximum_is_409(staff_client):
    product = create_product(staff_client, stock=1_000_000_000)
    response = staff_client.post(f"/products/{product['id']}/stock/", {"delta": 1}, format="json")
    assert response.status_code == 409


@pytest.mark.parametrize(
    "body", [{}, {"delta": 0}, {"delta": "5"}, {"delta": 1.5}, {"delta": None}, {"delta": 2e9}]
)
def test_restock_rejects_bad_delta(staff_client, body):
    product = create_product(staff_client)
    response = staff_client.post(f"/products/{product['id']}/stock/", body, format="json")
    assert response.status_code == 400
    assert "delta" in response.json()["errors"]


def test_restock_unknown_product_is_404(staff_client):
    assert (
        staff_client.post(f"/products/{UNKNOWN}/stock/", {"delta": 1}, format="json").status_code
        == 404
    )
    assert staff_client.post("/products/zzz/stock", {"delta": 1}, format="json").status_code == 404


def test_delete_unavailable_deletes_only_those(staff_client, mongo, redis_client):
    keep = create_product(staff_client, name="keep")
    for i in range(3):
        create_product(staff_client, name=f"gone{i}", available=False)
    response = staff_client.delete("/products/unavailable/")
    assert response.status_code == 200
    assert response.json() == {"deleted": 3}
    assert [p["_id"] for p in mongo["products"].find()] == [ObjectId(keep["id"])]
    assert staff_client.delete("/products/unavailable").json() == {"deleted": 0}
    assert json.loads(events(redis_client, "product_deleted")[0]["metadata"])["deleted"] == 3


def test_delete_unavailable_in_batches(mongo, staff_user):
    from catalog import services

    services.products_create_bulk(
        items=[
            {
                "name": f"p{i}",
                "category": "c",
                "price_cents": 1,
                "stock": 0,
                "available": i % 2 == 0,
            }
            for i in range(25)
        ],
        user_id=staff_user.pk,
    )
    assert services.products_delete_unavailable(user_id=staff_user.pk, batch_size=4) == 12
    assert mongo["products"].count_documents({}) == 13


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/products"),
        ("post", "/products"),
        ("get", f"/products/{UNKNOWN}"),
        ("patch", f"/products/{UNKNOWN}"),
        ("delete", f"/products/{UNKNOWN}"),
        ("post", f"/products/{UNKNOWN}/stock"),
        ("delete", "/products/unavailable"),
    ],
)
@pytest.mark.parametrize("slash", ["", "/"])
def test_anonymous_is_401_and_non_staff_403(anon_client, plain_user, method, path, slash, mongo):
    assert_anonymous_401_then_403(anon_client, plain_user, method, path + slash, mongo["products"])


def test_paths_work_with_and_without_trailing_slash(staff_client):
    product = create_product(staff_client)
    for path in ("/products", f"/products/{product['id']}"):
        for suffix in ("", "/"):
            response = staff_client.get(path + suffix)
            assert response.status_code == 200, path + suffix
    response = staff_client.post("/products", product_body(), format="json")
    assert response.status_code == 201
    response = staff_client.patch(f"/products/{product['id']}", {"stock": 1}, format="json")
    assert response.status_code == 200
    assert staff_client.delete(f"/products/{product['id']}").status_code == 204


def test_create_records_product_created_with_acting_user(staff_client, staff_user, redis_client):
    product = create_product(staff_client)
    created = events(redis_client, "product_created")
    assert len(created) == 1
    assert created[0]["user_id"] == str(staff_user.pk)
    assert json.loads(created[0]["metadata"])["product_id"] == product["id"]


def test_products_are_in_the_openapi_schema(client, db):
    schema = json.loads(client.get("/openapi.json?format=json").content)
    for path in ("/products/", "/products/{product_id}/", "/products/{product_id}/stock/",
                 "/products/unavailable/"):  # fmt: skip
        assert path in schema["paths"], path


@pytest.mark.parametrize("count", [1, 16, 17, 40])
def test_find_by_ids_one_by_one_or_in(mongo, staff_user, count):
    from catalog import repository, services

    docs = services.products_create_bulk(
        items=[
            {"name": f"p{i}", "category": "c", "price_cents": 1, "stock": 1} for i in range(count)
        ],
        user_id=staff_user.pk,
    )
    wanted = [d["_id"] for d in docs] + [ObjectId()]
    found = repository.find_by_ids(wanted)
    assert set(found) == {d["_id"] for d in docs}
