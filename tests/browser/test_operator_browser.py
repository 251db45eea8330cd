"""Spreadsheets in and out and the operator's warnings, in a real browser (headless Chromium).

Screenshots go to test-artifacts/screenshots/<name>.png like the other browser tests.
"""

import csv
import io
import re
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from backups import repository as backup_repository
from catalog import repository as catalog_repository
from catalog import services as catalog_services
from eventlog.worker import OutboxWorker
from orders import services as order_services
from shopsite.timeutil import iso, utcnow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_export_orders_with_a_filter_and_read_the_csv_back(visitor, staff_user):
    page = visitor.page
    mug = catalog_services.product_create(
        name="Mug", category="Kitchen", price_cents=750, stock=50, user_id=None
    )
    for customer, quantity in (("Ada Lovelace", 2), ("Bob", 1), ("Ada Lovelace", 3)):
        order_services.order_place(
            customer=customer,
            items=[{"product_id": str(mug["_id"]), "quantity": quantity}],
            user_id=None,
        )
    visitor.login("staff")
    visitor.goto("/dashboard/orders/last-30-days/")
    page.get_by_label("Customer (exact name)").fill("Ada Lovelace")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r".*customer=Ada.*"))
    visitor.snap("30-orders-filtered-with-csv-button")
    with page.expect_download() as info:
        page.locator("#orders-csv").click()
    download = info.value
    assert download.suggested_filename == "orders.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert [r["customer"] for r in rows] == ["Ada Lovelace", "Ada Lovelace"]
    assert sorted(r["quantity"] for r in rows) == ["2", "3"]
    assert {r["unit_price"] for r in rows} == {"7.50"}
    assert sorted(r["line_total"] for r in rows) == ["15.00", "22.50"]
    assert all(r["created_at"].endswith("Z") for r in rows)


def _upload(page, text: str) -> None:
    page.locator('input[type="file"]').set_input_files(
        {"name": "products.csv", "mimeType": "text/csv", "buffer": text.encode()}
    )
    page.get_by_label("Create new products").check()
    page.get_by_role("button", name="Check the file").click()
    page.wait_for_load_state("networkidle")


def test_import_products_bad_row_previewed_then_fixed_and_imported(visitor, staff_user):
    page = visitor.page
    visitor.login("staff")
    visitor.goto("/dashboard/products/")
    page.get_by_role("link", name="Import CSV").click()
    page.wait_for_url(re.compile(r".*/dashboard/products/import/$"))
    header = "name,category,price,stock,available\n"
    bad = header + "Watering can,Garden,12.50,8,true\nRake,Garden,-3,5,true\nHose,Garden,20,2,\n"
    _upload(page, bad)
    expect(page.locator("#preview-title")).to_contain_text("3 rows, 2 valid, 1 with errors")
    errors = page.locator("#import-errors tbody tr")
    expect(errors).to_have_count(1)
    expect(errors).to_contain_text("Rake")
    expect(errors).to_contain_text("Must not be negative.")
    expect(page.locator("#import-confirm")).to_have_count(0)
    visitor.snap("31-import-preview-with-a-bad-row")
    assert catalog_repository.products().count_documents({}) == 0

    _upload(page, bad.replace("Rake,Garden,-3", "Rake,Garden,3"))
    expect(page.locator("#preview-title")).to_contain_text("3 rows, 3 valid, 0 with errors")
    visitor.snap("32-import-preview-ok")
    assert catalog_repository.products().count_documents({}) == 0
    page.locator("#import-confirm").click()
    page.wait_for_url(re.compile(r".*/dashboard/products/$"))
    expect(page.locator(".flash-success")).to_contain_text("Created 3 products")
    for name in ("Watering can", "Rake", "Hose"):
        expect(page.locator("tbody tr", has_text=name)).to_have_count(1)
    visitor.snap("33-products-after-import")


def test_operator_warnings_with_the_worker_stopped(visitor, staff_user, settings, tmp_path):
    page = visitor.page
    settings.BACKUP_DIR = tmp_path
    recent = utcnow() - timedelta(minutes=5)
    name = backup_repository.name_for(recent)
    backup_repository.manifest_write(
        name, {"status": "ok", "created_at": iso(recent), "finished_at": iso(recent), "pid": None}
    )
    backup_repository.archive_path(name).write_bytes(b"archive")

    worker = OutboxWorker(consumer="browser-test")
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        visitor.login("staff")
        deadline = time.monotonic() + 20
        while True:  # the worker has run a loop and moved the sign-in event
            visitor.goto("/dashboard/")
            if "never" not in page.locator("#worker-seen").inner_text():
                break
            assert time.monotonic() < deadline, "the worker never recorded its heartbeat"
            time.sleep(0.5)
        expect(page.locator("#operator-warnings")).to_have_count(0)
        visitor.snap("34-home-operations-all-well")
    finally:
        worker.stop()
        thread.join(timeout=10)

    # Worker stopped: events pile up and its heartbeat ages (thresholds shortened for the test).
    settings.OPS_WORKER_SILENT_SECONDS = 1
    settings.OPS_OUTBOX_MAX_AGE_SECONDS = 1
    settings.OPS_BACKUP_MAX_AGE_SECONDS = 60
    visitor.goto("/dashboard/products/")  # records nothing itself; the sign-in event was moved
    from eventlog.services import event_record

    event_record(event_type="ops_probe", user_id=None)
    time.sleep(2.5)
    visitor.goto("/dashboard/")
    warnings = page.locator("#operator-warnings")
    expect(warnings).to_contain_text("oldest event in the outbox has waited")
    expect(warnings).to_contain_text("event worker was last seen")
    expect(warnings).to_contain_text("newest good backup is 5 min old")
    visitor.snap("35-home-operator-warnings-worker-stopped")
