"""The browser, beyond the dashboard's pages (test_dashboard_browser.py): the API docs offline
and with a bearer token, page weight, and form errors tied to their fields."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from orders import services as order_services
from shopsite.timeutil import utcnow
from tests.browser.test_dashboard_browser import _product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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
