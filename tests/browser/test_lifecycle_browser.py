"""Fulfil and cancel in a real browser: an order cancelled from its page with a reason gives its
stock back (the products page) and leaves the Sales page's figures; another is fulfilled; the
orders list filters by status with its links and its select, and sorts by a header."""

import re

import pytest
from playwright.sync_api import expect

from catalog import services as catalog_services
from orders import services as order_services

from .conftest import Visitor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _place(teapot, customer: str, quantity: int) -> str:
    order = order_services.order_place(
        customer=customer,
        items=[{"product_id": str(teapot["_id"]), "quantity": quantity}],
        user_id=None,
    )
    return str(order["_id"])


def _stock_cell(page):
    return page.locator("tbody tr", has_text="Teapot").locator("td").nth(3)


def test_cancel_with_a_reason_fulfil_and_filter_by_status(visitor, staff_user):
    page = visitor.page
    order_services.sales_summaries_refresh()  # the emptied store's summaries built
    teapot = catalog_services.product_create(
        name="Teapot", category="Tea", price_cents=1250, stock=10, user_id=None
    )
    ada = _place(teapot, "Ada Lovelace", 3)
    bob = _place(teapot, "Bob Babbage", 2)
    visitor.login("staff")
    expect(page.locator("#orders-waiting")).to_have_text("2")

    visitor.goto("/dashboard/sales/")
    expect(page.locator("#total-orders")).to_have_text("2")
    expect(page.locator("#total-quantity")).to_have_text("5")

    # Cancel Ada's order from its page, with a reason, confirmed on the next page.
    visitor.goto(f"/dashboard/orders/{ada}/")
    expect(page.locator("#order-status")).to_have_text("placed")
    visitor.snap("lifecycle-00-order-placed")
    page.get_by_role("link", name="Cancel this order…").click()
    page.wait_for_url(re.compile(rf".*/dashboard/orders/{ada}/cancel/$"))
    expect(page.get_by_role("heading", name="Cancel the order of Ada Lovelace?")).to_be_visible()
    page.get_by_label("Reason (optional)").fill("Wrong colour")
    visitor.snap("lifecycle-01-cancel-confirm")
    page.get_by_role("button", name="Cancel the order").click()
    page.wait_for_url(re.compile(rf".*/dashboard/orders/{ada}/$"))
    expect(page.locator(".flash-success")).to_contain_text("Order cancelled")
    expect(page.locator("#order-status")).to_have_text("cancelled")
    expect(page.locator("#order-cancel-reason")).to_have_text("Wrong colour")
    expect(page.get_by_role("button", name="Fulfil")).to_have_count(0)
    visitor.snap("lifecycle-02-cancelled")

    visitor.goto("/dashboard/products/?category=Tea")
    expect(_stock_cell(page)).to_have_text("8")  # 10 - 3 - 2, then Ada's 3 back
    visitor.goto("/dashboard/sales/")
    expect(page.locator("#total-orders")).to_have_text("1")
    expect(page.locator("#total-quantity")).to_have_text("2")
    visitor.snap("lifecycle-03-sales-after-cancel")

    # Fulfil Bob's.
    visitor.goto(f"/dashboard/orders/{bob}/")
    page.get_by_role("button", name="Fulfil").click()
    expect(page.locator(".flash-success")).to_contain_text("Order fulfilled")
    expect(page.locator("#order-status")).to_have_text("fulfilled")
    expect(page.locator("#order-fulfilled-at")).to_be_visible()
    visitor.goto("/dashboard/products/?category=Tea")
    expect(_stock_cell(page)).to_have_text("8")
    visitor.goto("/dashboard/")
    expect(page.locator("#orders-waiting")).to_have_text("0")

    # The list: both marked; filtered by a status link, then by the select.
    visitor.goto("/dashboard/orders/last-30-days/")
    expect(page.locator("tr.order-cancelled")).to_have_count(1)
    expect(page.locator("tr.order-cancelled")).to_contain_text("Ada Lovelace")
    page.get_by_role("navigation", name="Filter by status").get_by_role(
        "link", name="Cancelled"
    ).click()
    page.wait_for_url(re.compile(r".*\?status=cancelled$"))
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr")).to_contain_text("Ada Lovelace")
    visitor.snap("lifecycle-04-list-cancelled")
    page.get_by_label("Status", exact=True).select_option("fulfilled")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r".*status=fulfilled.*"))
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr")).to_contain_text("Bob Babbage")
    expect(page.locator(".pager")).to_contain_text("1 in all")


@pytest.mark.parametrize(
    "viewport", [{"width": 1366, "height": 768}, {"width": 390, "height": 844}], ids=["1366", "390"]
)
def test_sort_the_orders_list_by_total(browser, live_server, backends, staff_user, viewport):
    """Issue 29: the Total header sorts the list (server-side, kept in the URL), then the other
    way; nothing wider than a laptop or a phone."""
    order_services.sales_summaries_refresh()
    teapot = catalog_services.product_create(
        name="Teapot", category="Tea", price_cents=1250, stock=100, user_id=None
    )
    for customer, quantity in (("Middle", 3), ("Small", 1), ("Large", 5)):
        _place(teapot, customer, quantity)
    context = browser.new_context(viewport=viewport)
    visitor = Visitor(context.new_page(), live_server.url)
    visitor.page.set_default_timeout(15_000)
    page = visitor.page
    visitor.login("staff")
    visitor.goto("/dashboard/orders/last-30-days/?status=placed")
    customers = page.locator("#orders-table tbody tr td:nth-child(2)")
    expect(customers).to_have_text(["Large", "Small", "Middle"])  # newest first
    expect(page.locator('th[aria-sort="descending"]')).to_have_text("Placed")
    total = page.locator("#orders-table th", has_text="Total").get_by_role("link")
    total.click()
    page.wait_for_url("**/dashboard/orders/last-30-days/?status=placed&sort=total")
    expect(customers).to_have_text(["Small", "Middle", "Large"])
    expect(page.locator('th[aria-sort="ascending"]')).to_have_text("Total")
    total.click()
    page.wait_for_url("**/dashboard/orders/last-30-days/?status=placed&sort=-total")
    expect(customers).to_have_text(["Large", "Middle", "Small"])
    expect(page.locator('th[aria-sort="descending"]')).to_have_text("Total")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the page is {overflow}px wider than {viewport['width']}px"
    visitor.snap(f"29-orders-by-total-{viewport['width']}")
    context.close()
