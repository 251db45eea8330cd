"""Dashboard pages for orders, without a browser (Django's test client)."""

from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId

from catalog import selectors as catalog_selectors
from catalog import services as catalog_services
from orders import services

pytestmark = pytest.mark.usefixtures("mongo", "redis_client")


def make(user, **fields):
    data = {"name": "Mug", "category": "kitchen", "price_cents": 750, "stock": 10}
    data.update(fields)
    return catalog_services.product_create(**data, user_id=user.pk)


def order(user, product, quantity=1, customer="Ada", created_at=None):
    return services.order_place(
        customer=customer,
        items=[{"product_id": str(product["_id"]), "quantity": quantity}],
        created_at=created_at,
        user_id=user.pk,
    )


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/orders/",
        "/dashboard/orders/new/",
        "/dashboard/orders/last-30-days/",
        f"/dashboard/orders/{ObjectId()}/",
    ],
)
def test_pages_need_a_staff_login(client, plain_user, path):
    response = client.get(path)
    assert response.status_code == 302
    client.force_login(plain_user)
    assert client.get(path).status_code == 403


def test_recent_orders_page(staff_browser, staff_user):
    product = make(staff_user, price_cents=250)
    order(staff_user, product, quantity=2, customer="Grace")
    page = staff_browser.get("/dashboard/orders/").content.decode()
    assert "Grace" in page and "5.00" in page
    assert "The 1 most recent orders" in page


def test_last_30_days_page_with_customer_filter(staff_browser, staff_user):
    product = make(staff_user, stock=100)
    now = datetime.now(UTC)
    order(staff_user, product, customer="Ada", created_at=now - timedelta(days=2))
    order(staff_user, product, customer="Bob", created_at=now - timedelta(days=3))
    order(staff_user, product, customer="Ada", created_at=now - timedelta(days=40))
    page = staff_browser.get("/dashboard/orders/last-30-days/").content.decode()
    assert "Ada" in page and "Bob" in page and "2 in all" in page
    ada = staff_browser.get("/dashboard/orders/last-30-days/?customer=Ada").content.decode()
    assert "for Ada" in ada and "1 in all" in ada and "<td>Bob</td>" not in ada


def test_order_detail_page(staff_browser, staff_user):
    product = make(staff_user, name="Teapot", price_cents=1250)
    doc = order(staff_user, product, quantity=3)
    page = staff_browser.get(f"/dashboard/orders/{doc['_id']}/").content.decode()
    assert "Teapot" in page and "12.50" in page and "37.50" in page
    assert staff_browser.get(f"/dashboard/orders/{ObjectId()}/").status_code == 404
    assert staff_browser.get("/dashboard/orders/bad-id/").status_code == 404


def test_place_order_form_valid(staff_browser, staff_user, mongo):
    mug = make(staff_user, name="Mug", stock=5)
    lamp = make(staff_user, name="Lamp", stock=5)
    make(staff_user, name="Retired", available=False)
    page = staff_browser.get("/dashboard/orders/new/").content.decode()
    assert "Mug (kitchen)" in page and "Retired" not in page
    form = {"customer": "Ada", "product_0": str(mug["_id"]), "quantity_0": "2",
            "product_2": str(lamp["_id"]), "quantity_2": "1"}  # fmt: skip
    response = staff_browser.post("/dashboard/orders/new/", form)
    assert response.status_code == 302
    stored = mongo["orders"].find_one({})
    assert response["Location"] == f"/dashboard/orders/{stored['_id']}/"
    assert [i["name"] for i in stored["items"]] == ["Mug", "Lamp"]
    assert catalog_selectors.product_get(product_id=mug["_id"])["stock"] == 3


def test_place_order_form_shows_stock_errors_clearly(staff_browser, staff_user, mongo):
    mug = make(staff_user, name="Mug", stock=5)
    lamp = make(staff_user, name="Lamp", stock=1)
    form = {"customer": "Ada", "product_0": str(mug["_id"]), "quantity_0": "2",
            "product_1": str(lamp["_id"]), "quantity_1": "4"}  # fmt: skip
    response = staff_browser.post("/dashboard/orders/new/", form)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Not enough stock: only 1 of Lamp left." in page
    assert 'role="alert"' in page
    assert mongo["orders"].count_documents({}) == 0
    assert catalog_selectors.product_get(product_id=mug["_id"])["stock"] == 5


@pytest.mark.parametrize(
    "form, message",
    [
        ({"customer": "Ada"}, "Choose at least one product."),
        ({"customer": "", "product_0": "P", "quantity_0": "1"}, "This field is required."),
        ({"customer": "Ada", "product_0": "P", "quantity_0": "0"}, "greater than or equal to 1"),
        ({"customer": "Ada", "product_0": "P", "quantity_0": ""}, "Enter a quantity."),
        ({"customer": "Ada", "product_0": str(ObjectId()), "quantity_0": "1"}, "valid choice"),
    ],
)
def test_place_order_form_invalid(staff_browser, staff_user, mongo, form, message):
    mug = make(staff_user)
    form = {key: (str(mug["_id"]) if value == "P" else value) for key, value in form.items()}
    response = staff_browser.post("/dashboard/orders/new/", form)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert mongo["orders"].count_documents({}) == 0


def test_place_order_form_product_gone_meanwhile(staff_browser, staff_user, mongo):
    mug = make(staff_user)
    catalog_services.product_update(product_id=mug["_id"], available=False, user_id=1)
    # The choice list is built from available products, so the form itself refuses it.
    form = {"customer": "Ada", "product_0": str(mug["_id"]), "quantity_0": "1"}
    response = staff_browser.post("/dashboard/orders/new/", form)
    assert response.status_code == 200
    assert mongo["orders"].count_documents({}) == 0
