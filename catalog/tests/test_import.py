"""Products CSV import on the dashboard: preview with each row's errors, all-or-nothing writes."""

import re
import time

import pytest
from bson import ObjectId
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog import import_services, repository, services
from catalog.exceptions import ProductNotFound
from catalog.tests.helpers import create_product, events

pytestmark = pytest.mark.usefixtures("mongo", "redis_client")

URL = "/dashboard/products/import/"
HEADER = "name,category,price,stock,available,description\n"


def upload(client, text, mode="create", match="id", name="products.csv"):
    data = text.encode() if isinstance(text, str) else text
    file = SimpleUploadedFile(name, data, content_type="text/csv")
    return client.post(URL, {"file": file, "mode": mode, "match": match})


def confirm(client, preview):
    token = re.search(rb'name="token" value="([^"]+)"', preview.content).group(1).decode()
    return client.post(URL + "confirm/", {"token": token})


def names() -> list[str]:
    return sorted(doc["name"] for doc in repository.products().find({}))


def test_bad_row_is_shown_and_nothing_written_then_fixed_file_imports(staff_browser, redis_client):
    bad = HEADER + "Mug,kitchen,7.50,10,true,\nLamp,home,12.999,x,maybe,\nRug,home,30,2,,soft\n"
    preview = upload(staff_browser, bad)
    assert preview.status_code == 400
    html = preview.content.decode()
    assert "3 rows, 2 valid, 1 with errors" in html
    assert "At most two decimal places." in html  # the API's own messages, by column
    assert "<strong>stock</strong>" in html and "<strong>available</strong>" in html
    assert 'id="import-confirm"' not in html
    assert names() == []

    preview = upload(staff_browser, bad.replace("12.999,x,maybe", "12.99,4,false"))
    assert preview.status_code == 200
    assert "3 rows, 3 valid, 0 with errors" in preview.content.decode()
    assert names() == []  # a preview writes nothing
    done = confirm(staff_browser, preview)
    assert done.status_code == 302 and done["Location"] == "/dashboard/products/"
    assert names() == ["Lamp", "Mug", "Rug"]
    lamp = repository.products().find_one({"name": "Lamp"})
    assert (lamp["price_cents"], lamp["stock"], lamp["available"]) == (1299, 4, False)
    rug = repository.products().find_one({"name": "Rug"})
    assert rug["available"] is True and rug["description"] == "soft"
    (imported,) = events(redis_client, "products_imported")
    assert '"count": 3' in str(imported["metadata"])
    # The same upload cannot be imported twice.
    assert confirm(staff_browser, preview).status_code == 400
    assert len(names()) == 3


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\xff\xfename,category\n", "not UTF-8"),
        (b"PK\x03\x04\x00\x00binary", "not a CSV file"),
        ("name,category,price\nMug,kitchen,1\n", "missing columns: stock"),
        (HEADER.strip() + ",color\nMug,k,1,1,true,,red\n", "unexpected columns: color"),
        ("", "file is empty"),
        (HEADER, "no products"),
        ('name,category,price,stock\n"Mug,kitchen,1,1\n', "not a valid CSV file"),
    ],
)
def test_files_refused_as_a_whole_write_nothing(staff_browser, data, message):
    response = upload(staff_browser, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'role="alert"' in response.content.decode() or "field-error" in response.content.decode()
    assert names() == []


def test_size_and_row_limits_are_stated(staff_browser, settings):
    settings.PRODUCT_IMPORT_MAX_BYTES = 100
    response = upload(staff_browser, HEADER + "Mug,kitchen,7.50,10,true,\n" * 5)
    assert response.status_code == 400
    assert (
        "too large" in response.content.decode()
        and "at most 100 bytes" in response.content.decode()
    )
    settings.PRODUCT_IMPORT_MAX_BYTES = 4 * 1024 * 1024
    response = upload(staff_browser, HEADER + "Mug,kitchen,1,1,,\n" * 10_001)
    assert "at most 10,000 at once" in response.content.decode()


def test_ten_thousand_rows_import_in_one_go(staff_browser):
    rows = "".join(f"Product {i},cat-{i % 7},{i % 500}.99,{i % 50},true,\n" for i in range(10_000))
    started = time.perf_counter()
    preview = upload(staff_browser, HEADER + rows)
    assert preview.status_code == 200, preview.content[:2000]
    assert confirm(staff_browser, preview).status_code == 302
    assert repository.products().count_documents({}) == 10_000
    print(f"10,000-row import: {time.perf_counter() - started:.1f} s")


def test_update_by_id_changes_price_stock_and_availability(
    staff_browser, staff_client, redis_client
):
    mug = create_product(staff_client, name="Mug", category="kitchen", price="7.50", stock=10)
    lamp = create_product(staff_client, name="Lamp", category="home", price="20.00", stock=3)
    text = f"id,price,stock,available\n{mug['id']},8.25,,\n{lamp['id']},,9,false\n"
    preview = upload(staff_browser, text, mode="update")
    assert preview.status_code == 200, preview.content.decode()
    assert confirm(staff_browser, preview).status_code == 302
    mug_doc = repository.find_by_id(ObjectId(mug["id"]))
    lamp_doc = repository.find_by_id(ObjectId(lamp["id"]))
    assert (mug_doc["price_cents"], mug_doc["stock"], mug_doc["available"]) == (825, 10, True)
    assert (lamp_doc["price_cents"], lamp_doc["stock"], lamp_doc["available"]) == (2000, 9, False)
    assert lamp_doc["name"] == "Lamp"
    changed = [e for e in events(redis_client, "stock_changed") if lamp["id"] in e["metadata"]]
    assert changed and '"reason": "import"' in changed[-1]["metadata"]


def test_update_by_name_and_category_with_row_errors(staff_browser, staff_client):
    create_product(staff_client, name="Mug", category="kitchen", price="7.50", stock=10)
    create_product(staff_client, name="Twin", category="toys", stock=1)
    create_product(staff_client, name="Twin", category="toys", stock=2)
    text = (
        "name,category,price\nMug,kitchen,9.00\nMug,garden,1.00\nTwin,toys,2.00\nMug,kitchen,9.50\n"
    )
    preview = upload(staff_browser, text, mode="update", match="name_category")
    html = preview.content.decode()
    assert preview.status_code == 400
    assert "No product named &#x27;Mug&#x27; in category &#x27;garden&#x27;" in html
    assert "2 products have this name and category: match by id instead." in html
    assert "Same product as line 2." in html
    assert repository.products().find_one({"name": "Mug"})["price_cents"] == 750

    preview = upload(
        staff_browser, "name,category,price\nMug,kitchen,9.00\n", "update", "name_category"
    )
    assert confirm(staff_browser, preview).status_code == 302
    assert repository.products().find_one({"name": "Mug"})["price_cents"] == 900


def test_update_columns_must_fit_the_match(staff_browser):
    response = upload(staff_browser, "name,category,price\nMug,kitchen,1\n", mode="update")
    assert "missing columns: id" in response.content.decode()
    response = upload(staff_browser, "id,name\nx,y\n", mode="update")
    assert "unexpected columns: name" in response.content.decode()
    assert "nothing to change" in response.content.decode()
    response = upload(staff_browser, f"id,price\n{ObjectId()},1\n", mode="update")
    assert "No product with this id." in response.content.decode()


def test_update_failing_half_way_undoes_what_was_written(staff_client, staff_user):
    docs = services.products_create_bulk(
        items=[
            {"name": f"P{i}", "category": "c", "price_cents": 100, "stock": 10}
            for i in range(import_services.IMPORT_BATCH + 5)
        ],
        user_id=staff_user.pk,
    )
    updates = [
        (str(doc["_id"]), {"price_cents": 999, "stock": 50, "available": False}) for doc in docs
    ]
    repository.delete_one(docs[-1]["_id"])  # deleted between the preview and the import
    with pytest.raises(ProductNotFound):
        import_services.products_import_update(updates=updates, user_id=staff_user.pk)
    for doc in repository.products().find({}):
        assert (doc["price_cents"], doc["stock"], doc["available"]) == (100, 10, True), doc["name"]


def test_undo_keeps_changes_made_by_others_meanwhile(staff_user):
    (doc,) = services.products_create_bulk(
        items=[{"name": "A", "category": "c", "price_cents": 100, "stock": 10}],
        user_id=staff_user.pk,
    )
    repository.update_fields(doc["_id"], {"price_cents": 500, "stock": 40})
    repository.stock_add(doc["_id"], -3, now=doc["created_at"])  # a purchase after the import
    repository.update_fields(doc["_id"], {"price_cents": 777})  # an edit after the import
    import_services._import_undo(
        [(doc["_id"], doc, {"price_cents": 500, "stock": 40})], stock_as_delta=True
    )
    after = repository.find_by_id(doc["_id"])
    assert after["price_cents"] == 777  # the later edit stays
    assert after["stock"] == 7  # 10 before, minus the purchase


def test_import_page_is_linked_and_needs_staff(staff_browser, client):
    assert (
        b'href="/dashboard/products/import/"' in staff_browser.get("/dashboard/products/").content
    )
    page = staff_browser.get(URL)
    assert page.status_code == 200 and b"at most 10,000 products" in page.content


def test_undo_of_the_batch_under_its_locks_restores_exact_values(staff_user):
    (doc,) = services.products_create_bulk(
        items=[{"name": "A", "category": "c", "price_cents": 100, "stock": 10}],
        user_id=staff_user.pk,
    )
    repository.update_fields(doc["_id"], {"price_cents": 500, "stock": 40})
    import_services._import_undo(
        [(doc["_id"], doc, {"price_cents": 500, "stock": 40})], stock_as_delta=False, locked=True
    )
    after = repository.find_by_id(doc["_id"])
    assert (after["price_cents"], after["stock"]) == (100, 10)
