"""The "Sales" dashboard page: renders the figures, and the charts' data (json_script) from the
stats functions."""

import json
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


def _json(html: str, element_id: str):
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html)
    assert match, element_id
    return json.loads(match.group(1))


def _money(text: str) -> str:
    """ "€1,234.50" (the page, en-US and EUR by default) as the API's "1234.50"."""
    return text.replace("€", "").replace(",", "")


def test_sales_page_renders_totals_and_chart_data(shop, browser):
    products, orders = shop
    response = browser.get("/dashboard/sales/?" + urlencode(RANGE))
    assert response.status_code == 200
    html = response.content.decode()
    expected = expected_sold(products, orders, *WINDOW)
    assert _text(html, "total-quantity").replace(",", "") == str(expected["total_quantity"])
    assert _text(html, "total-orders") == str(expected["orders"])
    assert _text(html, "total-revenue").startswith("€")
    assert _money(_text(html, "total-revenue")) == expected["revenue"]

    # Three charts, each an image with a label, drawn from the page's JSON by the vendored
    # Chart.js, each with a table of the same figures.
    assert '/static/vendor/chartjs-4.5.1/chart.umd.min.js"' in html
    for chart_id in ("day-chart", "products-chart", "categories-chart"):
        figure = re.search(rf'<figure class="chart" id="{chart_id}".*?</figure>', html, re.S)
        assert figure and 'role="img" aria-label="' in figure.group(0), chart_id
    by_day = expected_sold(products, orders, *WINDOW, by="day")["breakdown"]
    day = _json(html, "day-chart-data")
    # 92 days in the range: one value per day, also on days without orders.
    assert len(day["days"]) == (date(2026, 5, 31) - date(2026, 3, 1)).days + 1
    assert day["days"][0] == "2026-03-01" and day["days"][-1] == "2026-05-31"
    shown = {d: (u, r) for d, u, r in zip(day["days"], day["units"], day["revenue"]) if u}
    assert shown == {row["day"]: (row["quantity"], float(row["revenue"])) for row in by_day}
    # The previous period: as many days, just before the range.
    assert len(day["previous_days"]) == len(day["days"])
    assert day["previous_days"][-1] == "2026-02-28"
    table = re.search(r'<table id="day-table">.*?</table>', html, re.S).group(0)
    rows = re.findall(r"<tr><td>([0-9-]+)</td>", table)
    assert rows == [row["day"] for row in by_day]

    top = expected_sold(products, orders, *WINDOW, by="product")["breakdown"][:10]
    chart = _json(html, "products-chart-data")
    assert chart["labels"] == [row["name"] for row in top]
    assert chart["revenue"] == [float(row["revenue"]) for row in top]
    assert chart["units"] == [row["quantity"] for row in top]
    cats = expected_sold(products, orders, *WINDOW, by="category")["breakdown"]
    assert _json(html, "categories-chart-data")["labels"] == [row["category"] for row in cats]


def test_previous_period_series_holds_the_earlier_days(shop, browser):
    """The range's second half compared with its first half: the faint series of the later
    range are the earlier range's figures, day by day."""
    products, orders = shop
    first = _json(
        browser.get("/dashboard/sales/?start=2026-03-01&end=2026-04-15").content.decode(),
        "day-chart-data",
    )
    second = _json(
        browser.get("/dashboard/sales/?start=2026-04-16&end=2026-05-31").content.decode(),
        "day-chart-data",
    )
    assert second["previous_days"] == first["days"]
    assert second["previous_units"] == first["units"]
    assert second["previous_revenue"] == first["revenue"]
    assert second["previous_orders"] == first["orders"]


def test_date_fields_are_iso_text_boxes(mongo, browser):
    html = browser.get("/dashboard/sales/?start=2026-03-01&end=2026-03-31").content.decode()
    start = re.search(r'<input[^>]*name="start"[^>]*>', html).group(0)
    assert 'type="text"' in start and 'value="2026-03-01"' in start
    assert 'placeholder="YYYY-MM-DD"' in start
    assert browser.get("/dashboard/sales/?start=03/01/2026").status_code == 400


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
    assert _money(_text(html, "customer-total")) == expected["total_spent"]
    assert _money(_text(html, "customer-average")) == expected["average_order"]
    table = re.search(r'<table id="recent-orders">.*?</table>', html, re.S).group(0)
    placed = re.findall(r'<tr><td><time datetime="([^"]+)">', table)
    mine = sorted((o.created_at for o in orders if o.customer == name), reverse=True)
    assert [datetime.fromisoformat(p) for p in placed] == [
        when.replace(microsecond=when.microsecond // 1000 * 1000) for when in mine[:10]
    ]


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


def test_day_chart_fills_missing_days_and_the_previous_period():
    rows = [
        {"day": "2026-01-02", "orders": 1, "quantity": 10, "revenue_cents": 500},
        {"day": "2026-01-04", "orders": 2, "quantity": 5, "revenue_cents": 1000},
    ]
    previous = [{"day": "2025-12-28", "orders": 3, "quantity": 7, "revenue_cents": 1999}]
    chart = day_chart(rows, date(2026, 1, 1), date(2026, 1, 5), previous=previous)
    data = chart["data"]
    assert data["units"] == [0, 10, 0, 5, 0]
    assert data["revenue"] == [0, 5.0, 0, 10.0, 0]
    assert data["previous_days"][0] == "2025-12-27" and data["previous_days"][-1] == "2025-12-31"
    assert data["previous_units"] == [0, 7, 0, 0, 0]
    assert data["previous_revenue"] == [0, 19.99, 0, 0, 0]
    assert [row["day"] for row in chart["rows"]] == ["2026-01-02", "2026-01-04"]
