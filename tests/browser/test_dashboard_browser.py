"""The dashboard in a real browser: headless Debian Chromium against the live test server.

Every page visited is screenshotted to test-artifacts/screenshots/<name>.png.
"""

import re
import shutil
from datetime import timedelta

import pytest
from django.conf import settings
from playwright.sync_api import expect

from catalog import services as catalog_services
from eventlog import services as event_services
from eventlog.manager import get_log_manager
from orders import services as order_services
from shopsite.timeutil import utcnow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _product(name, *, category="Garden", stock=10, price_cents=1999):
    return catalog_services.product_create(
        name=name, category=category, price_cents=price_cents, stock=stock, user_id=None
    )


def _row(page, text):
    return page.locator("tbody tr", has_text=text)


def test_login_home_and_navigation(visitor, staff_user):
    page = visitor.page
    visitor.goto("/dashboard/")
    assert page.url.startswith(visitor.base_url + "/accounts/login/")
    visitor.snap("01-login")

    # A wrong password: the error is shown and the form stays usable.
    page.get_by_label("Username").fill("staff")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#login-error")).to_be_visible()
    visitor.snap("01b-login-error")

    visitor.login("staff")
    expect(page.get_by_role("heading", name="Shop overview")).to_be_visible()
    current = page.locator('nav[aria-label="Main"] a[aria-current="page"]')
    expect(current).to_have_text("Home")
    for panel in ("#panel-sales", "#panel-low-stock", "#panel-events", "#panel-health"):
        expect(page.locator(panel)).to_be_visible()
    expect(page.locator(".site-header")).to_contain_text("staff")
    # Staff (not admin) see no admin sections.
    assert page.locator('nav a[href="/dashboard/backups/"]').count() == 0
    visitor.snap("02-home")

    page.get_by_role("link", name="Sales", exact=True).click()
    expect(page.locator('nav a[aria-current="page"]')).to_have_text("Sales")

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r".*/accounts/login/"))
    visitor.goto("/dashboard/")
    assert "/accounts/login/" in page.url
    assert visitor.external == []


def test_keyboard_skip_link_and_focus(visitor, staff_user):
    page = visitor.page
    visitor.login("staff")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to main content"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_add_product_and_find_it_by_category(visitor, staff_user):
    page = visitor.page
    _product("Rake", category="Garden")
    _product("Kettle", category="Kitchen")
    visitor.login("staff")

    visitor.goto("/dashboard/products/new/")
    # A bad price is reported next to the field, and nothing is created.
    page.get_by_label("Name").fill("Watering can")
    page.get_by_label("Category").fill("Garden")
    page.get_by_label("Price").fill("-3")
    page.get_by_label("Stock").fill("12")
    page.get_by_role("button", name="Create").click()
    expect(page.locator("#id_price")).to_have_attribute("aria-invalid", "true")
    visitor.snap("03-product-form-error")

    page.get_by_label("Price").fill("14.50")
    page.get_by_role("button", name="Create").click()
    page.wait_for_url(re.compile(r".*/dashboard/products/$"))
    expect(page.locator(".flash-success")).to_contain_text("Watering can")
    expect(page.locator('nav a[aria-current="page"]')).to_have_text("Products")

    page.locator("form.filters").get_by_label("Category").fill("Garden")
    page.locator("form.filters").get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r".*category=Garden"))
    expect(_row(page, "Watering can")).to_have_count(1)
    expect(_row(page, "Rake")).to_have_count(1)
    expect(_row(page, "Kettle")).to_have_count(0)
    expect(_row(page, "Watering can")).to_contain_text("14.50")
    visitor.snap("04-products-by-category")


def test_place_order_and_see_stock_drop(visitor, staff_user):
    page = visitor.page
    lamp = _product("Desk lamp", category="Office", stock=10, price_cents=2500)
    visitor.login("staff")

    visitor.goto("/dashboard/orders/new/")
    page.get_by_label("Customer").fill("Grace Hopper")
    page.locator('select[name="product_0"]').select_option(str(lamp["_id"]))
    page.locator('input[name="quantity_0"]').fill("3")
    visitor.snap("05-order-form")
    page.get_by_role("button", name="Place order").click()
    page.wait_for_url(re.compile(r".*/dashboard/orders/[0-9a-f]{24}/$"))
    expect(page.locator(".flash-success")).to_contain_text("Grace Hopper")
    expect(page.locator("main")).to_contain_text("75.00")
    visitor.snap("06-order-detail")

    visitor.goto("/dashboard/products/?category=Office")
    row = _row(page, "Desk lamp")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(3)).to_have_text("7")
    visitor.snap("07-products-after-order")

    # More than the stock: refused, and the stock stays.
    visitor.goto("/dashboard/orders/new/")
    page.get_by_label("Customer").fill("Grace Hopper")
    page.locator('select[name="product_0"]').select_option(str(lamp["_id"]))
    page.locator('input[name="quantity_0"]').fill("8")
    page.get_by_role("button", name="Place order").click()
    expect(page.locator("main .error").first).to_be_visible()
    visitor.goto("/dashboard/products/?category=Office")
    expect(_row(page, "Desk lamp").locator("td").nth(3)).to_have_text("7")

    visitor.goto("/dashboard/")
    expect(page.locator("#today-orders")).to_have_text("1")
    expect(page.locator("#today-revenue")).to_have_text("€75.00")


def test_sales_page_draws_charts(visitor, staff_user):
    page = visitor.page
    tea = _product("Green tea", category="Tea", stock=500, price_cents=450)
    cup = _product("Cup", category="Kitchen", stock=500, price_cents=900)
    now = utcnow()
    for days_ago, quantity in ((0, 3), (1, 5), (2, 2), (4, 7)):
        order_services.order_place(
            customer=f"Customer {days_ago}",
            items=[
                {"product_id": str(tea["_id"]), "quantity": quantity},
                {"product_id": str(cup["_id"]), "quantity": 1},
            ],
            created_at=now - timedelta(days=days_ago, minutes=5),
            user_id=None,
        )
    visitor.login("staff")
    visitor.goto("/dashboard/sales/")
    expect(page.locator('nav a[aria-current="page"]')).to_have_text("Sales")
    chart = page.locator("figure#day-chart")
    expect(chart).to_have_class("chart chart-ready")  # Chart.js drew it
    units = page.evaluate("document.querySelector('#day-chart').chart.data.datasets[0].data")
    assert len([u for u in units if u]) == 4
    box = chart.locator("canvas").bounding_box()
    assert box["width"] > 300 and box["height"] > 100  # really drawn, not collapsed
    bars = page.evaluate("document.querySelector('#products-chart').chart.data.labels")
    assert sorted(bars) == ["Cup", "Green tea"]
    expect(page.locator("#total-quantity")).to_have_text("21")
    visitor.snap("08-sales")


def test_event_log_page(visitor, staff_user, cassandra_keyspace):
    page = visitor.page
    get_log_manager().truncate()
    event_services.log_create(event_type="browser_check", user_id="7", metadata="hello")
    visitor.login("staff")
    expect(page.locator("#panel-events")).to_contain_text("browser_check")
    visitor.goto("/dashboard/events/?event_type=browser_check&hours=24")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody")).to_contain_text("hello")
    visitor.snap("09-event-log")


def test_admin_runs_a_backup_and_sees_it_finish(visitor, admin_user):
    page = visitor.page
    shutil.rmtree(settings.BACKUP_DIR, ignore_errors=True)  # this test run's own backup folder
    _product("Backed-up thing", stock=5)
    visitor.login("admin")
    expect(page.locator('nav a[href="/dashboard/backups/"]')).to_be_visible()
    visitor.goto("/dashboard/sessions/")
    expect(page.locator("main")).to_contain_text("admin")
    visitor.snap("10-sessions")

    visitor.goto("/dashboard/backups/")
    expect(page.locator("#backups-table tbody tr[data-status]")).to_have_count(0)
    visitor.snap("11-backups-before")
    page.get_by_role("button", name="Back up now").click()
    page.wait_for_url(re.compile(r".*/dashboard/backups/$"))
    rows = page.locator("#backups-table tbody tr[data-status]")
    expect(rows.first).to_be_visible()
    # The table refreshes itself (htmx) until the dump is done.
    expect(rows.first).to_have_attribute("data-status", "ok", timeout=120_000)
    expect(rows).to_have_count(1)
    expect(rows.first.get_by_role("link", name="Download")).to_be_visible()
    visitor.snap("12-backups-done")


def test_phone_layout(phone, staff_user):
    page = phone.page
    phone.login("staff")
    expect(page.get_by_role("link", name="Products", exact=True)).to_be_visible()
    # Nothing wider than the screen: no sideways scrolling of the whole page.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    phone.snap("13-phone-home")
    phone.goto("/dashboard/products/")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    phone.snap("14-phone-products")
