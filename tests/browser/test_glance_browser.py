"""Issue 29 in a real browser: the day chart's tooltip, sorting products, the event log's first
view and filters, an order's events; axe-core on every page (no serious or critical violation),
each page screenshotted at desktop (1366×768) and phone (390 px) width."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from catalog import services as catalog_services
from eventlog.manager import get_log_manager
from orders import services as order_services
from shopsite.timeutil import utcnow

from .conftest import SCREENSHOTS, Visitor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe-core-4.11.0" / "axe.min.js"
VIEWPORTS = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}


def _shop(user_id=None):
    tea = catalog_services.product_create(
        name="Green tea", category="Tea", price_cents=450, stock=5000, user_id=user_id
    )
    cup = catalog_services.product_create(
        name="Cup", category="Kitchen", price_cents=123456, stock=3, user_id=user_id
    )
    now = utcnow()
    orders = []
    for days_ago, quantity in ((0, 3), (1, 5), (2, 2), (4, 7)):
        orders.append(
            order_services.order_place(
                customer=f"Customer {days_ago}",
                items=[{"product_id": str(tea["_id"]), "quantity": quantity}],
                created_at=now - timedelta(days=days_ago, minutes=5),
                user_id=user_id,
            )
        )
    # A fresh store's sales summaries are built once (as the worker or make run would).
    call_command("rebuild_summaries")
    return tea, cup, orders


def _drain_events():
    from eventlog.worker import OutboxWorker

    OutboxWorker().drain(timeout=60)


def test_hover_a_day_of_the_sales_chart_and_read_its_figures(visitor, staff_user):
    page = visitor.page
    _shop()
    visitor.login("staff")
    visitor.goto("/dashboard/sales/")
    figure = page.locator("figure#day-chart")
    expect(figure).to_have_class("chart chart-ready")
    # The bar of 4 days ago: its centre, from the chart's own layout.
    days = page.evaluate("JSON.parse(document.getElementById('day-chart-data').textContent).days")
    index = days.index((utcnow() - timedelta(days=4, minutes=5)).date().isoformat())
    x, y = page.evaluate(
        "i => { const b = document.querySelector('#day-chart').chart.getDatasetMeta(0).data[i];"
        " return [b.x, (b.y + b.base) / 2]; }",
        index,
    )
    box = figure.locator("canvas").bounding_box()
    page.mouse.move(box["x"] + x, box["y"] + y)
    tooltip = page.locator("#day-chart-tooltip")
    expect(tooltip).to_be_visible()
    expect(tooltip).to_contain_text("7 units · 1 orders")
    expect(tooltip).to_contain_text("Revenue €31.50")
    expect(tooltip).to_contain_text("Previous period")
    visitor.snap("29-sales-day-tooltip")


def test_sort_products_by_stock(visitor, staff_user):
    page = visitor.page
    for name, stock in (("Many", 900), ("None", 0), ("Some", 42)):
        catalog_services.product_create(
            name=name, category="Sort", price_cents=100, stock=stock, user_id=None
        )
    visitor.login("staff")
    visitor.goto("/dashboard/products/")
    page.locator("#products-table th", has_text="Stock").get_by_role("link").click()
    page.wait_for_url("**/dashboard/products/?sort=stock")
    names = page.locator("#products-table tbody tr td:first-child")
    expect(names).to_have_text(["None", "Some", "Many"])
    expect(page.locator('th[aria-sort="ascending"]')).to_have_text("Stock")
    page.locator("#products-table th", has_text="Stock").get_by_role("link").click()
    page.wait_for_url("**/dashboard/products/?sort=-stock")
    expect(names).to_have_text(["Many", "Some", "None"])
    visitor.snap("29-products-by-stock")


def test_event_log_last_hour_names_user_filter_and_an_orders_events(
    visitor, staff_user, other_staff_user
):
    page = visitor.page
    tea, _, orders = _shop(user_id=other_staff_user.pk)
    manager = get_log_manager()
    manager.insert(event_type="login_failed", user_id=str(staff_user.pk))
    manager.insert(event_type="custom.thing", user_id="api-client-7")
    _drain_events()
    visitor.login("staff")  # a session_created event of staff's own

    visitor.goto("/dashboard/events/")
    _drain_events()
    visitor.goto("/dashboard/events/")
    table = page.locator("#events-table")
    for event_type in ("order_created", "stock_changed", "login_failed", "custom.thing"):
        expect(table.locator("a.event-type", has_text=event_type).first).to_be_visible()
    expect(table.locator("a.event-user", has_text="staff2").first).to_be_visible()
    expect(table.locator("a.event-user", has_text="staff").first).to_be_visible()
    visitor.snap("29-event-log-last-hour")

    # Narrow to one user by clicking their name.
    table.locator("a.event-user", has_text="staff2").first.click()
    page.wait_for_url("**/dashboard/events/?user=*")
    users = page.locator("#events-table a.event-user")
    expect(users.first).to_have_text("staff2")
    assert set(users.all_inner_texts()) == {"staff2"}
    visitor.snap("29-event-log-one-user")

    # From an order (the home page's latest orders) to its events.
    visitor.goto("/dashboard/")
    newest = orders[0]
    page.locator(f'a.order-events[href*="about={str(newest["_id"])}"]').click()
    page.wait_for_url(f"**/dashboard/events/?about={newest['_id']}*")
    rows = page.locator("#events-table tbody tr")
    expect(rows.first).to_be_visible()
    texts = rows.all_inner_texts()
    assert any("order_created" in t for t in texts)
    assert all(str(newest["_id"]) in t for t in texts)
    visitor.snap("29-event-log-an-order")


def _axe_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result
        if v["impact"] in ("serious", "critical")
    ]


def test_every_page_passes_axe_and_is_screenshotted(browser, live_server, backends, admin_user):
    tea, cup, orders = _shop()
    manager = get_log_manager()
    event = manager.insert(event_type="login_failed", user_id=str(admin_user.pk))
    pages = [
        "/dashboard/",
        "/dashboard/products/",
        "/dashboard/products/?sort=-price",
        "/dashboard/products/new/",
        f"/dashboard/products/{tea['_id']}/edit/",
        f"/dashboard/products/{cup['_id']}/stock/",
        "/dashboard/orders/",
        "/dashboard/orders/last-30-days/?sort=-total",
        "/dashboard/orders/new/",
        f"/dashboard/orders/{orders[0]['_id']}/",
        "/dashboard/sales/",
        f"/dashboard/sales/?customer={orders[0]['customer']}",
        "/dashboard/events/",
        "/dashboard/events/?hours=168&type=order_created&type=login_failed",
        f"/dashboard/events/{event.event_id}/edit/",
        "/dashboard/sessions/",
        "/dashboard/backups/",
    ]
    failures = {}
    for width, viewport in VIEWPORTS.items():
        context = browser.new_context(viewport=viewport)
        visitor = Visitor(context.new_page(), live_server.url)
        visitor.page.set_default_timeout(15_000)
        visitor.goto("/accounts/login/")
        found = _axe_violations(visitor.page)
        if found:
            failures[f"{width} /accounts/login/"] = found
        visitor.snap(f"axe-{width}-login")
        visitor.login("admin")
        for path in pages:
            response = visitor.goto(path)
            assert response.status == 200, path
            found = _axe_violations(visitor.page)
            if found:
                failures[f"{width} {path}"] = found
            # Nothing clipped: the page is no wider than the viewport (wide tables scroll
            # inside their own box).
            overflow = visitor.page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1, f"{width} {path} is {overflow}px wider than the viewport"
            name = path.strip("/").replace("/", "-").replace("?", "_").replace("&", "_")
            visitor.snap(f"axe-{width}-{name[:80]}")
        context.close()
    assert failures == {}, failures
    assert (SCREENSHOTS / "axe-phone-dashboard-events.png").exists()


def test_home_low_stock_fits_a_laptop_and_a_phone(browser, live_server, backends, staff_user):
    for n in range(8):
        catalog_services.product_create(
            name=f"A product with a rather long name number {n}",
            category="Outdoor furniture and camping gear",
            price_cents=100,
            stock=n % 3,
            user_id=None,
        )
    for width, viewport in VIEWPORTS.items():
        context = browser.new_context(viewport=viewport)
        visitor = Visitor(context.new_page(), live_server.url)
        visitor.login("staff")
        panel = visitor.page.locator("#panel-low-stock")
        restock = panel.get_by_role("link", name="Restock").first
        expect(restock).to_be_visible()
        link, card = restock.bounding_box(), panel.bounding_box()
        assert link["x"] + link["width"] <= card["x"] + card["width"], width
        visitor.snap(f"29-home-low-stock-{width}")
        context.close()
