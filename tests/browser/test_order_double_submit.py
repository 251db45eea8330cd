"""The order form carries an Idempotency-Key per render: submitting it twice (a double click
while the first submission is still running) places one order, and both submissions end on it."""

import re

import pytest
from playwright.sync_api import expect

from catalog import services as catalog_services
from shopsite.faults import arm

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_double_submitted_order_form_places_one_order(visitor, staff_user, settings, tmp_path):
    page = visitor.page
    lamp = catalog_services.product_create(
        name="Desk lamp", category="Office", price_cents=2500, stock=10, user_id=None
    )
    visitor.login("staff")
    visitor.goto("/dashboard/orders/new/")
    page.get_by_label("Customer").fill("Grace Hopper")
    page.locator('select[name="product_0"]').select_option(str(lamp["_id"]))
    page.locator('input[name="quantity_0"]').fill("3")

    posts = []
    page.on("request", lambda r: posts.append(r) if r.method == "POST" else None)
    # The first submission is slow, so the second arrives while it is in progress.
    settings.FAULT_INJECTION_FILE = str(tmp_path / "fault")
    arm("after_intent", "pause:1.5")
    # Two clicks, the second while the first submission is still running (as a user's
    # impatient double click; Playwright's own click would wait for the navigation).
    page.get_by_role("button", name="Place order").evaluate(
        "button => { button.click(); setTimeout(() => button.click(), 300); }"
    )
    # The first navigation is aborted by the second; the page ends on the order.
    expect(page).to_have_url(re.compile(r".*/dashboard/orders/[0-9a-f]{24}/$"), timeout=15_000)
    expect(page.locator("main")).to_contain_text("75.00")
    visitor.snap("order-double-submit")

    assert len(posts) >= 2, "the browser sent the form once only"
    orders = list(visitor_db()["orders"].find())
    assert len(orders) == 1
    assert page.url.endswith(f"/dashboard/orders/{orders[0]['_id']}/")
    assert visitor_db()["products"].find_one({"_id": lamp["_id"]})["stock"] == 7

    # The browser sending the same form again later (a resubmit): the same order, nothing new.
    again = page.request.post(
        posts[0].url,
        data=posts[0].post_data,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": posts[0].url,
        },
        max_redirects=0,
    )
    assert again.status == 302
    assert again.headers["location"].endswith(f"/dashboard/orders/{orders[0]['_id']}/")
    assert visitor_db()["orders"].count_documents({}) == 1


def visitor_db():
    from shopsite.mongo import get_db

    return get_db()
