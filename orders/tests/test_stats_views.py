"""The "Sales" dashboard page: renders the figures and SVG charts from the stats functions."""

import re
from datetime import UTC, date, datetime, timedelta
from html import unescape
from urllib.parse import urlencode

import pytest

from orders.stats_views import day_chart
from orders.tests.test_stats import build_shop, expected_customer, expected_sold
from shopsite.timeutil import utcnow

RANGE = {"start": "2026-03-01", "end": "2026-05-31"}
WINDOW = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC))


@pytest.fixture
def shop(mongo, staff_client):
    return build_shop(staff_client)


@pytest.fixture
def browser(client, staff_user, redis_client):
    client.force_login(staff_user)
    return client


def _text(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', html)
    assert match, element_id
    return unescape(match.group(1)).strip()


def test_sales_page_renders_totals_and_svg_charts(shop, browser):
    products, orders = shop
    response = browser.get("/dashboard/sales/?" + urlencode(RANGE))
    assert response.status_code == 200
    html = response.content.decode()
    expected = expected_sold(products, orders, *WINDOW)
    assert _text(html, "total-quantity") == str(expected["total_quantity"])
    assert _text(html, "total-orders") == str(expected["orders"])
    assert _text(html, "total-revenue") == expected["revenue"]

    # Three server-drawn charts, each an accessible image with a title.
    for chart_id in ("day-chart", "products-chart", "categories-chart"):
        svg = re.search(rf'<svg class="chart" id="{chart_id}" role="img".*?</svg>', html, re.S)
        assert svg, chart_id
        assert "<title" in svg.group(0)
    day_svg = re.search(r'<svg class="chart" id="day-chart".*?</svg>', html, re.S).group(0)
    by_day = expected_sold(products, orders, *WINDOW, by="day")["breakdown"]
    bar_titles = re.findall(r"<rect [^>]*><title>([^<]*)</title>", day_svg)
    assert [unescape(t) for t in bar_titles] == [
        f"{row['day']}: {row['quantity']} units, {row['orders']} orders, revenue {row['revenue']}"
        for row in by_day
    ]
    assert re.search(r'<polyline class="revenue" points="[0-9., ]+"', day_svg)
    # 92 days in the range: one revenue point per day, also on days without orders.
    points = re.search(r'points="([^"]*)"', day_svg).group(1).split()
    assert len(points) == (date(2026, 5, 31) - date(2026, 3, 1)).days + 1

    products_svg = re.search(r'id="products-chart".*?</svg>', html, re.S).group(0)
    top = expected_sold(products, orders, *WINDOW, by="product")["breakdown"][:10]
    labels = re.findall(r"<g>\s*<title>([^<]*)</title>", products_svg)
    assert [unescape(label) for label in labels] == [
        f"{row['name']}: revenue {row['revenue']}, {row['quantity']} units" for row in top
    ]
    categories_svg = re.search(r'id="categories-chart".*?</svg>', html, re.S).group(0)
    cats = expected_sold(products, orders, *WINDOW, by="category")["breakdown"]
    labels = re.findall(r"<g>\s*<title>([^<]*)</title>", categories_svg)
    assert [unescape(label).split(":")[0] for label in labels] == [row["category"] for row in cats]


def test_sales_page_needs_no_network(shop, browser):
    html = browser.get("/dashboard/sales/").content.decode()
    urls = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert urls
    assert all(not url.startswith(("http:", "https:", "//")) for url in urls), urls


def test_customer_lookup_shows_totals_and_recent_orders(shop, browser):
    products, orders = shop
    name = "A/B Trading"
    response = browser.get("/dashboard/sales/?" + urlencode({**RANGE, "customer": name}))
    assert response.status_code == 200
    html = response.content.decode()
    expected = expected_customer(products, orders, name)
    assert _text(html, "customer-orders") == str(expected["orders"])
    assert _text(html, "customer-total") == expected["total_spent"]
    assert _text(html, "customer-average") == expected["average_order"]
    table = re.search(r'<table id="recent-orders">.*?</table>', html, re.S).group(0)
    placed = re.findall(r"<tr><td>(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)</td>", table)
    mine = sorted((o.created_at for o in orders if o.customer == name), reverse=True)
    assert placed == [when.strftime("%Y-%m-%d %H:%M:%S") for when in mine[:10]]


def test_customer_lookup_unknown(shop, browser):
    html = browser.get("/dashboard/sales/?customer=Nobody").content.decode()
    assert "No orders for this customer." in html


def test_defaults_are_the_last_30_days(mongo, browser):
    response = browser.get("/dashboard/sales/")
    assert response.status_code == 200
    html = response.content.decode()
    today = utcnow().date()
    assert f'value="{(today - timedelta(days=29)).isoformat()}"' in html
    assert f'value="{today.isoformat()}"' in html
    assert _text(html, "total-orders") == "0"


@pytest.mark.parametrize(
    "query",
    [
        {"start": "2026-05-02", "end": "2026-05-01"},
        {"start": "soon"},
        {"end": "2026-02-30"},
        {"start": "9999-12-30", "end": "9999-12-31"},
        {"start": "2000-01-01", "end": "2026-01-01"},
    ],
)
def test_bad_range_is_400_with_a_message(mongo, browser, query):
    response = browser.get("/dashboard/sales/?" + urlencode(query))
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()


def test_sales_page_needs_staff(mongo, client, plain_user, redis_client):
    response = client.get("/dashboard/sales/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(plain_user)
    assert client.get("/dashboard/sales/").status_code == 403


def test_day_chart_fills_missing_days_and_scales():
    rows = [
        {"day": "2026-01-02", "orders": 1, "quantity": 10, "revenue_cents": 500},
        {"day": "2026-01-04", "orders": 2, "quantity": 5, "revenue_cents": 1000},
    ]
    chart = day_chart(rows, date(2026, 1, 1), date(2026, 1, 5))
    heights = [bar["height"] for bar in chart["bars"]]
    assert len(heights) == 5 and heights[0] == heights[2] == heights[4] == 0
    assert heights[1] == pytest.approx(2 * heights[3])
    assert [row["day"] for row in chart["rows"]] == ["2026-01-02", "2026-01-04"]
    assert chart["ticks"][-1]["units"] == "10" and chart["ticks"][-1]["revenue"] == "10.00"
