"""Backend outages: 503 naming the backend, nothing half-written. Stops REAL services."""

import time

import pytest
from bson import ObjectId

from catalog.tests.helpers import create_product
from tests import servicectl

pytestmark = [pytest.mark.fault, pytest.mark.usefixtures("mongo", "redis_client")]


def _wait_until(check, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: S110 - still coming back
            pass
        time.sleep(0.5)
    raise AssertionError("service did not come back")


# postgres: FerretDB answers, its storage does not; the app still names MongoDB.
@pytest.mark.parametrize("service", ["mongodb", "postgres"])
def test_mongodb_down_is_503_naming_mongodb(staff_client, client, staff_user, service):
    servicectl.require(service)
    product = create_product(staff_client, stock=5)
    order = {"customer": "A", "items": [{"product_id": product["id"], "quantity": 1}]}
    with servicectl.stopped(service):
        for method, path, body in [
            ("get", "/products/", None),
            ("post", "/products/", {"name": "x", "category": "c", "price": "1", "stock": 1}),
            ("post", "/orders/", order),
            ("get", "/orders/recent/", None),
            ("get", f"/orders/{ObjectId()}/", None),
        ]:
            response = getattr(staff_client, method)(path, body, format="json")
            assert response.status_code == 503, (path, response.content)
            assert response.json() == {"detail": "mongodb unavailable"}
        client.force_login(staff_user)
        page = client.get("/dashboard/products/", HTTP_ACCEPT="text/html")
        assert page.status_code == 503
        assert b"mongodb" in page.content
    _wait_until(lambda: staff_client.get("/products/").status_code == 200)
    assert staff_client.get(f"/products/{product['id']}/").json()["stock"] == 5


def test_redis_down_is_503_naming_redis_and_nothing_is_written(staff_client, mongo):
    product = create_product(staff_client, stock=5)
    order = {"customer": "A", "items": [{"product_id": product["id"], "quantity": 1}]}
    with servicectl.stopped("redis"):
        response = staff_client.post("/orders/", order, format="json")
        assert response.status_code == 503
        assert response.json() == {"detail": "redis unavailable"}
        for call in (
            lambda: staff_client.post(
                f"/products/{product['id']}/stock/", {"delta": 1}, format="json"
            ),
            lambda: staff_client.patch(f"/products/{product['id']}/", {"stock": 9}, format="json"),
        ):
            response = call()
            assert response.status_code == 503
            assert response.json() == {"detail": "redis unavailable"}
        assert mongo["orders"].count_documents({}) == 0
        assert mongo["products"].find_one({})["stock"] == 5
    _wait_until(lambda: staff_client.post("/orders/", order, format="json").status_code == 201)
    assert mongo["products"].find_one({})["stock"] == 4
