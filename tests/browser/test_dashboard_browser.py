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
    expect(page.locator("#today-revenue")).to_have_text("75.00")


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
    chart = page.locator("svg#day-chart")
    expect(chart).to_be_visible()
    assert chart.locator("g.units rect").count() == 4
    points = chart.locator("polyline.revenue").get_attribute("points")
    assert len(points.split()) >= 4
    box = chart.bounding_box()
    assert box["width"] > 300 and box["height"] > 100  # really drawn, not collapsed
    expect(page.locator("svg#products-chart rect.bar")).to_have_count(2)
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


def test_docs_work_with_the_network_cut_off(visitor):
    page = visitor.page
    blocked = []

    def only_local(route):
        if route.request.url.startswith(visitor.base_url):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.context.route("**/*", only_local)
    visitor.goto("/docs")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible(timeout=30_000)
    assert page.locator(".swagger-ui .opblock").count() >= 28
    expect(
        page.locator(".swagger-ui .opblock-summary-path", has_text="/products/").first
    ).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Authorize"))).to_be_visible()
    visitor.snap("15-docs")
    assert blocked == []
    assert visitor.external == []


# Dashboard pages weighed cold (empty cache, fresh browser context), with a little data.
WEIGHED_PAGES = [
    "/accounts/login/",
    "/dashboard/",
    "/dashboard/products/",
    "/dashboard/products/new/",
    "/dashboard/orders/",
    "/dashboard/orders/new/",
    "/dashboard/sales/",
    "/dashboard/events/",
    "/dashboard/sessions/",
    "/dashboard/backups/",
]
# Budget for one cold dashboard page, uncompressed as the test server sends it.
PAGE_BUDGET_BYTES = 400_000


def test_page_weight(browser, live_server, backends, admin_user):
    """Bytes transferred for each page loaded cold; the heaviest must stay within budget.

    Also writes test-artifacts/page-weights-cold.json with the gzip size of each page's
    assets (what whitenoise's compressed static files send in production)."""
    import gzip
    import json

    from tests.browser.conftest import ARTIFACTS, Visitor

    tea = _product("Tea", category="Drinks", stock=50, price_cents=300)
    for days_ago in range(5):
        order_services.order_place(
            customer=f"C{days_ago}",
            items=[{"product_id": str(tea["_id"]), "quantity": 1 + days_ago}],
            created_at=utcnow() - timedelta(days=days_ago, minutes=1),
            user_id=None,
        )
    # Sign in once, then reuse the session cookie in fresh contexts (cold HTTP cache each).
    context = browser.new_context()
    signed_in = Visitor(context.new_page(), live_server.url)
    signed_in.login("admin")
    state = context.storage_state()
    context.close()

    report = {}
    for path in WEIGHED_PAGES + ["/docs"]:
        context = browser.new_context(storage_state=None if path == "/accounts/login/" else state)
        visitor = Visitor(context.new_page(), live_server.url)
        response = visitor.goto(path)
        assert response.status == 200, path
        responses = list(visitor._responses)
        transferred = visitor.transferred_bytes()
        gzipped = 0
        for r in responses:
            body = r.body()
            gzipped += len(gzip.compress(body, 6)) + r.request.sizes()["responseHeadersSize"]
        report[path] = {
            "requests": len(responses),
            "bytes_transferred": transferred,
            "bytes_gzip": gzipped,
        }
        assert visitor.external == [], path
        context.close()

    (ARTIFACTS / "page-weights-cold.json").write_text(json.dumps(report, indent=2))
    dashboard = {p: w for p, w in report.items() if p != "/docs"}
    heaviest = max(dashboard, key=lambda p: dashboard[p]["bytes_transferred"])
    print(f"\nheaviest dashboard page: {heaviest} {dashboard[heaviest]}")
    print(f"/docs (Swagger UI): {report['/docs']}")
    assert dashboard[heaviest]["bytes_transferred"] < PAGE_BUDGET_BYTES


def test_docs_try_a_call_with_a_bearer_token(visitor, staff_user, redis_client):
    """Log in through the API, authorize Swagger UI with the token, and run GET /products/."""
    page = visitor.page
    _product("Swagger socks", category="Clothes")
    login = page.request.post(
        visitor.base_url + "/auth/login/",
        data={"username": "staff", "password": "staff-pass-123"},
    )
    assert login.status == 200
    token = login.json()["session_token"]

    visitor.goto("/docs")
    page.get_by_role("button", name=re.compile("Authorize")).first.click()
    # The bearerAuth section of the dialog (there is one per security scheme).
    dialog = page.locator(".dialog-ux .auth-container").filter(has_text="bearerAuth")
    dialog.locator("input").first.fill(token)
    dialog.get_by_role("button", name="Apply credentials").click()
    page.locator(".dialog-ux .close-modal").click()

    operation = page.locator("#operations-products-products_list")
    if operation.count() == 0:  # operation ids are the API authors' choice
        operation = page.locator(".opblock-get").filter(
            has=page.locator('.opblock-summary-path[data-path="/products/"]')
        )
    operation.locator(".opblock-summary").first.click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table .response .response-col_status").first
    expect(status).to_have_text("200", timeout=15_000)
    expect(operation.locator(".live-responses-table")).to_contain_text("Swagger socks")
    expect(operation.locator(".curl-command")).to_contain_text("Authorization: Bearer")
    # The session token is shown in the curl command and request URL blocks: keep it out.
    visitor.snap(
        "16-docs-try-it", mask=[page.locator(".curl-command, .request-url, .auth-wrapper")]
    )
    assert visitor.external == []


MISSING_DESCRIPTIONS = """
    [...document.querySelectorAll('[aria-describedby]')].flatMap(el =>
        el.getAttribute('aria-describedby').split(/\\s+/).filter(Boolean)
          .filter(id => !document.getElementById(id)).map(id => el.id + ' -> ' + id))
"""


def test_login_errors_are_tied_to_their_fields(visitor, staff_user):
    page = visitor.page
    visitor.goto("/accounts/login/")
    page.get_by_label("Username").fill("staff")
    page.get_by_role("button", name="Sign in").click()  # no password
    password = page.get_by_label("Password")
    expect(password).to_have_attribute("aria-invalid", "true")
    described = password.get_attribute("aria-describedby")
    assert "id_password_error" in described.split()
    expect(page.locator("#id_password_error")).to_contain_text("required")
    assert page.evaluate(MISSING_DESCRIPTIONS) == []


def test_product_form_errors_are_tied_to_their_fields(visitor, staff_user):
    page = visitor.page
    visitor.login("staff")
    visitor.goto("/dashboard/products/new/")
    page.get_by_label("Price").fill("-3")
    page.get_by_role("button", name="Create").click()
    expect(page.locator("#id_price")).to_have_attribute("aria-invalid", "true")
    assert page.evaluate(MISSING_DESCRIPTIONS) == []
