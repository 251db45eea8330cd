import json

import pytest
from bson import ObjectId

from catalog.tests.helpers import create_product, events, product_body

pytestmark = pytest.mark.usefixtures("mongo", "redis_client")

UNKNOWN = str(ObjectId())


def test_create_returns_the_product_with_money_as_string(staff_client, staff_user, mongo):
    body = create_product(staff_client, description="A mug.", price=19.99)
    assert set(body) == {
        "id", "name", "category", "price", "stock", "available", "description",
        "created_at", "updated_at",
    }  # fmt: skip
    assert body["price"] == "19.99"
    assert body["available"] is True
    assert body["created_at"].endswith("Z")
    stored = mongo["products"].find_one({"_id": ObjectId(body["id"])})
    assert stored["price_cents"] == 1999
    assert stored["name_lower"] == "blue mug"
    assert stored["description"] == "A mug."


def test_money_round_trips_exactly(staff_client):
    for text in ("0.10", "0.30", "19.99", "1000000000.00", "0.00", "5"):
        body = create_product(staff_client, price=text)
        expected = text if "." in text else f"{text}.00"
        assert body["price"] == expected
        assert staff_client.get(f"/products/{body['id']}/").json()["price"] == expected


@pytest.mark.parametrize(
    "field, value",
    [
        ("price", "-0.01"),
        ("price", -1),
        ("price", "19.999"),
        ("price", 0.001),
        ("price", "1000000000.01"),
        ("price", "abc"),
        ("price", True),
        ("price", None),
        ("price", {"$gt": 0}),
        ("name", ""),
        ("name", "   "),
        ("name", "x" * 201),
        ("name", 123),
        ("name", {"$gt": ""}),
        ("name", ["a"]),
        ("category", ""),
        ("category", "c" * 101),
        ("category", {"$ne": None}),
        ("stock", -1),
        ("stock", 1_000_000_001),
        ("stock", "5"),
        ("stock", 2.5),
        ("stock", True),
        ("available", "yes"),
        ("available", 1),
        ("description", "d" * 5001),
        ("description", 5),
    ],
)
def test_create_rejects_bad_field_with_400_naming_it(staff_client, mongo, field, value):
    response = staff_client.post("/products/", product_body(**{field: value}), format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body["errors"]
    assert field in body["detail"]
    assert mongo["products"].count_documents({}) == 0


@pytest.mark.parametrize("field", ["name", "category", "price", "stock"])
def test_create_requires_field(staff_client, field):
    body = product_body()
    del body[field]
    response = staff_client.post("/products/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_limits_accepted_at_the_edges(staff_client):
    body = create_product(
        staff_client,
        name="n" * 200,
        category="c" * 100,
        stock=1_000_000_000,
        price="1000000000.00",
        description="d" * 5000,
        available=False,
    )
    assert body["stock"] == 1_000_000_000
    assert body["available"] is False


@pytest.mark.parametrize("raw", ["{not json", "42", '"text"', "null"])
def test_create_rejects_a_body_that_is_not_an_object_or_list(staff_client, raw, mongo):
    response = staff_client.post("/products/", raw, content_type="application/json")
    assert response.status_code == 400
    assert "detail" in response.json()
    assert mongo["products"].count_documents({}) == 0


def test_bulk_create_returns_the_list_in_order(staff_client, mongo, redis_client):
    items = [product_body(name=f"P{i}", price=f"{i}.25") for i in range(3)]
    response = staff_client.post("/products/", items, format="json")
    assert response.status_code == 201
    body = response.json()
    assert [p["name"] for p in body] == ["P0", "P1", "P2"]
    assert [p["price"] for p in body] == ["0.25", "1.25", "2.25"]
    assert mongo["products"].count_documents({}) == 3
    assert len(events(redis_client, "product_created")) == 3


def test_bulk_create_with_one_invalid_element_is_400_naming_index_and_field(staff_client, mongo):
    items = [product_body(name="ok"), product_body(price="1.234"), product_body(name="ok2")]
    response = staff_client.post("/products/", items, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["errors"][0] == {} and body["errors"][2] == {}
    assert "price" in body["errors"][1]
    assert "[1].price" in body["detail"]
    assert mongo["products"].count_documents({}) == 0


def test_bulk_create_rejects_an_empty_list_and_non_object_elements(staff_client, mongo):
    assert staff_client.post("/products/", [], format="json").status_code == 400
    response = staff_client.post("/products/", [product_body(), "x"], format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0] == {}
    assert mongo["products"].count_documents({}) == 0


def test_list_is_paginated_newest_first(staff_client):
    ids = [create_product(staff_client, name=f"P{i}")["id"] for i in range(5)]
    first = staff_client.get("/products/?page_size=2").json()
    assert first["count"] == 5
    assert [p["id"] for p in first["results"]] == ids[::-1][:2]
    assert first["previous"] is None and "page=2" in first["next"]
    second = staff_client.get(first["next"]).json()
    third = staff_client.get(second["next"]).json()
    seen = [p["id"] for page in (first, second, third) for p in page["results"]]
    assert seen == ids[::-1]
    assert third["next"] is None


def test_list_filters_category_available_and_name_substring(staff_client):
    mug = create_product(staff_client, name="Blue Mug", category="kitchen")
    create_product(staff_client, name="Red Mug", category="kitchen", available=False)
    lamp = create_product(staff_client, name="Lamp (mug-shaped) 1.5", category="home")

    def names(query):
        response = staff_client.get("/products/" + query)
        assert response.status_code == 200, response.content
        return sorted(p["name"] for p in response.json()["results"])

    assert names("?category=kitchen") == ["Blue Mug", "Red Mug"]
    assert names("?category=kitch") == []
    assert names("?available=false") == ["Red Mug"]
    assert names("?category=kitchen&available=true") == [mug["name"]]
    assert names("?q=MUG") == ["Blue Mug", "Lamp (mug-shaped) 1.5", "Red Mug"]
    # The search text is literal, not a pattern.
    assert names("?q=(mug") == [lamp["name"]]
    assert names("?q=1.5") == [lamp["name"]]
    assert names("?q=.%2A") == []
    assert names("") == ["Blue Mug", "Lamp (mug-shaped) 1.5", "Red Mug"]
    # Issue 13: an empty filter is a 400 naming it, not "no filter".
    response = staff_client.get("/products/?category=&q=")
    assert response.status_code == 400 and set(response.json()["errors"]) == {"category", "q"}


@pytest.mark.parametrize(
    "query, field",
    [
        ("available=yes", "available"),
        ("page_size=501", "page_size"),
        ("page_size=0", "page_size"),
        ("page=0", "page"),
        ("page=x", "page"),
        ("category=" + "c" * 101, "category"),
        ("q=" + "q" * 201, "q"),
    ],
)
def test_list_rejects_bad_query_parameters(staff_client, query, field):
    response = staff_client.get("/products/?" + query)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_page_past_the_end_is_404(staff_client):
    create_product(staff_client)
    assert staff_client.get("/products/?page=2").status_code == 404


def test_get_patch_delete_one_product(staff_client, mongo, redis_client, staff_user):
    product = create_product(staff_client)
    url = f"/products/{product['id']}/"
    assert staff_client.get(url).json() == product

    response = staff_client.patch(url, {"price": "8.00", "name": "Green Mug"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["price"] == "8.00" and body["name"] == "Green Mug"
    assert body["stock"] == 10
    assert body["updated_at"] >= product["updated_at"]
    assert mongo["products"].find_one({"_id": ObjectId(product["id"])})["name_lower"] == (
        "green mug"
    )
    updated = events(redis_client, "product_updated")
    assert json.loads(updated[0]["metadata"])["fields"] == ["name", "price_cents"]
    assert updated[0]["user_id"] == str(staff_user.pk)

    assert staff_client.delete(url).status_code == 204
    assert staff_client.get(url).status_code == 404
    assert staff_client.delete(url).status_code == 404
    assert events(redis_client, "product_deleted")[0]["user_id"] == str(staff_user.pk)


def test_patch_stock_records_stock_changed(staff_client, redis_client):
    product = create_product(staff_client, stock=3)
    response = staff_client.patch(f"/products/{product['id']}", {"stock": 7}, format="json")
    assert response.json()["stock"] == 7
    change = json.loads(events(redis_client, "stock_changed")[0]["metadata"])
    assert change["delta"] == 4 and change["stock"] == 7


@pytest.mark.parametrize(
    "body, field",
    [
        ({"price": "1.001"}, "price"),
        ({"name": ""}, "name"),
        ({"stock": -5}, "stock"),
        ({"available": "false"}, "available"),
        ({"category": None}, "category"),
    ],
)
def test_patch_validates_like_create(staff_client, body, field):
    product = create_product(staff_client)
    response = staff_client.patch(f"/products/{product['id']}/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert staff_client.get(f"/products/{product['id']}/").json() == product


def test_patch_with_empty_body_changes_nothing(staff_client):
    product = create_product(staff_client)
    response = staff_client.patch(f"/products/{product['id']}/", {}, format="json")
    assert response.status_code == 200
    assert response.json() == product


@pytest.mark.parametrize("product_id", ["nope", "123", UNKNOWN, "g" * 24, UNKNOWN + "0"])
@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_bad_or_unknown_id_is_404(staff_client, product_id, method):
    response = getattr(staff_client, method)(f"/products/{product_id}/", {}, format="json")
    assert response.status_code == 404
    assert "detail" in response.json()
