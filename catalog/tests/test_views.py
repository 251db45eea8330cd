"""Dashboard pages for products, without a browser (Django's test client)."""

import pytest
from bson import ObjectId

from catalog import selectors, services

pytestmark = pytest.mark.usefixtures("mongo", "redis_client")


def make(user, **fields):
    data = {"name": "Mug", "category": "kitchen", "price_cents": 750, "stock": 10}
    data.update(fields)
    return services.product_create(**data, user_id=user.pk)


FORM = {"name": "Teapot", "category": "kitchen", "price": "12.50", "stock": "4",
        "available": "on", "description": "Round."}  # fmt: skip


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/products/",
        "/dashboard/products/new/",
        "/dashboard/products/unavailable/delete/",
        f"/dashboard/products/{ObjectId()}/edit/",
        f"/dashboard/products/{ObjectId()}/delete/",
        f"/dashboard/products/{ObjectId()}/stock/",
    ],
)
def test_pages_need_a_staff_login(client, plain_user, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    client.force_login(plain_user)
    assert client.get(path).status_code == 403


def test_list_shows_products_with_filter_search_and_pages(staff_browser, staff_user):
    for i in range(55):
        make(staff_user, name=f"Item {i:02d}", category="bulk")
    make(staff_user, name="Special Lamp", category="home", price_cents=1999)
    make(staff_user, name="Old Lamp", category="home", available=False)

    page = staff_browser.get("/dashboard/products/").content.decode()
    assert "Special Lamp" in page and "19.99" in page
    assert "Page 1 of 2" in page and "57 in all" in page
    assert "Delete all unavailable (1)" in page

    second = staff_browser.get("/dashboard/products/?page=2").content.decode()
    assert "Item 00" in second and "Special Lamp" not in second

    home = staff_browser.get("/dashboard/products/?category=home").content.decode()
    assert "Special Lamp" in home and "Item 01" not in home and "1 of 1" in home
    search = staff_browser.get("/dashboard/products/?q=lamp&available=true").content.decode()
    assert "Special Lamp" in search and "Old Lamp" not in search
    odd = staff_browser.get("/dashboard/products/?page=abc&available=maybe")
    assert odd.status_code == 200


def test_create_valid_saves_and_redirects(staff_browser, mongo):
    response = staff_browser.post("/dashboard/products/new/", FORM)
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/products/"
    doc = mongo["products"].find_one({"name": "Teapot"})
    assert doc["price_cents"] == 1250 and doc["stock"] == 4 and doc["available"] is True
    assert doc["description"] == "Round."
    assert "Created Teapot" in staff_browser.get("/dashboard/products/").content.decode()


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("price", "12.505", "At most two decimal places."),
        ("price", "-1", "Must not be negative."),
        ("name", "", "This field is required."),
        ("name", "n" * 201, "at most 200 characters"),
        ("stock", "-1", "greater than or equal to 0"),
        ("stock", "many", "Enter a whole number."),
    ],
)
def test_create_invalid_shows_the_error_next_to_the_field(
    staff_browser, mongo, field, value, message
):
    response = staff_browser.post("/dashboard/products/new/", {**FORM, field: value})
    assert response.status_code == 200
    page = response.content.decode()
    assert f'id="id_{field}_error"' in page
    error_html = page.split(f'id="id_{field}_error"')[1].split("</small>")[0]
    assert message in error_html
    assert f'value="{value}"' in page or field in ("name",)  # the input is kept
    assert mongo["products"].count_documents({}) == 0


def test_edit_changes_only_the_fields_changed(staff_browser, staff_user):
    doc = make(staff_user, stock=10)
    url = f"/dashboard/products/{doc['_id']}/edit/"
    page = staff_browser.get(url).content.decode()
    assert 'value="Mug"' in page and 'value="7.50"' in page
    assert 'name="initial-stock" value="10"' in page
    # A purchase happens while the form is open.
    services.stock_take(quantities={doc["_id"]: 3}, intent_id="test")
    form = {
        "name": "Big Mug", "category": "kitchen", "price": "8.00", "stock": "10",
        "available": "on", "description": "",
        "initial-name": "Mug", "initial-category": "kitchen", "initial-price": "7.50",
        "initial-stock": "10", "initial-available": "True", "initial-description": "",
    }  # fmt: skip
    response = staff_browser.post(url, form)
    assert response.status_code == 302
    after = selectors.product_get(product_id=doc["_id"])
    assert after["name"] == "Big Mug" and after["price_cents"] == 800
    assert after["stock"] == 7  # the untouched stock field did not undo the purchase


def test_edit_invalid_shows_errors_and_changes_nothing(staff_browser, staff_user):
    doc = make(staff_user)
    url = f"/dashboard/products/{doc['_id']}/edit/"
    response = staff_browser.post(url, {**FORM, "price": "abc"})
    assert response.status_code == 200
    assert 'id="id_price_error"' in response.content.decode()
    assert selectors.product_get(product_id=doc["_id"])["name"] == "Mug"


def test_edit_unknown_or_bad_id_is_404(staff_browser):
    assert staff_browser.get(f"/dashboard/products/{ObjectId()}/edit/").status_code == 404
    assert staff_browser.get("/dashboard/products/nope/edit/").status_code == 404


def test_delete_asks_for_confirmation_then_deletes(staff_browser, staff_user, mongo):
    doc = make(staff_user)
    url = f"/dashboard/products/{doc['_id']}/delete/"
    page = staff_browser.get(url).content.decode()
    assert "Delete Mug?" in page
    assert mongo["products"].count_documents({}) == 1
    response = staff_browser.post(url)
    assert response.status_code == 302
    assert mongo["products"].count_documents({}) == 0
    assert staff_browser.post(url).status_code == 404


def test_restock_page(staff_browser, staff_user):
    doc = make(staff_user, stock=2)
    url = f"/dashboard/products/{doc['_id']}/stock/"
    assert "Current stock: <strong>2</strong>" in staff_browser.get(url).content.decode()
    assert staff_browser.post(url, {"delta": "5"}).status_code == 302
    assert selectors.product_get(product_id=doc["_id"])["stock"] == 7
    response = staff_browser.post(url, {"delta": "-8"})
    assert response.status_code == 200
    assert "Stock would go below 0" in response.content.decode()
    response = staff_browser.post(url, {"delta": "0"})
    assert "Must not be zero." in response.content.decode()
    assert selectors.product_get(product_id=doc["_id"])["stock"] == 7


def test_delete_all_unavailable_shows_count_then_deletes(staff_browser, staff_user, mongo):
    make(staff_user, name="keep")
    make(staff_user, name="gone1", available=False)
    make(staff_user, name="gone2", available=False)
    url = "/dashboard/products/unavailable/delete/"
    assert "2 products marked unavailable" in staff_browser.get(url).content.decode()
    response = staff_browser.post(url, follow=True)
    assert "Deleted 2 unavailable product(s)." in response.content.decode()
    assert [d["name"] for d in mongo["products"].find()] == ["keep"]
    assert "No product is marked unavailable." in staff_browser.get(url).content.decode()
