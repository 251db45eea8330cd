"""The shop's days (SHOP_TIME_ZONE) in the sales figures, with real services: orders one minute
either side of local midnight, on an ordinary day and on both daylight-saving days, land on the
right local day in GET /stats/sold/?by=day and ?by=weekday (JSON and CSV), on the Sales page
(its day table, its period and its CSV). A store whose zone changed answers 503 until
`refresh_summaries` regroups it; an unknown zone refuses to start.

The expected midnights are written out by hand (offsets known from the zones' rules), not
computed with zoneinfo: the code under test computes them with zoneinfo."""

import csv
import importlib
import io
import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html import unescape
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.management import call_command

from orders import repository, sales
from orders.tests.test_stats import import_products
from shopsite.timeutil import iso, shop_zone

MINUTE = timedelta(minutes=1)
PRICE = Decimal("1.25")


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# zone: [(local day, the UTC moment it begins, the UTC moment the next day begins)]. 2025, so
# that every order is in the past. Adelaide: ACST +09:30, ACDT +10:30 from the first Sunday of
# October to the first Sunday of April. New York: EST -05:00, EDT -04:00 from the second Sunday of
# March to the first Sunday of November. Kathmandu: +05:45 all year.
DAYS = {
    "Australia/Adelaide": [
        (date(2025, 6, 11), _utc("2025-06-10T14:30"), _utc("2025-06-11T14:30")),  # 24 h
        (date(2025, 4, 6), _utc("2025-04-05T13:30"), _utc("2025-04-06T14:30")),  # 25 h
        (date(2025, 10, 5), _utc("2025-10-04T14:30"), _utc("2025-10-05T13:30")),  # 23 h
    ],
    "America/New_York": [
        (date(2025, 6, 11), _utc("2025-06-11T04:00"), _utc("2025-06-12T04:00")),  # 24 h
        (date(2025, 3, 9), _utc("2025-03-09T05:00"), _utc("2025-03-10T04:00")),  # 23 h
        (date(2025, 11, 2), _utc("2025-11-02T04:00"), _utc("2025-11-03T05:00")),  # 25 h
    ],
    "Asia/Kathmandu": [(date(2025, 6, 11), _utc("2025-06-10T18:15"), _utc("2025-06-11T18:15"))],
    "UTC": [(date(2025, 6, 11), _utc("2025-06-11T00:00"), _utc("2025-06-12T00:00"))],
}
ZONES = list(DAYS)
DAY_HOURS = {
    "Australia/Adelaide": [24, 25, 23],
    "America/New_York": [24, 23, 25],
    "Asia/Kathmandu": [24],
    "UTC": [24],
}


def placements(zone: str) -> list[tuple[datetime, date, int]]:
    """(created_at, the local day it belongs to, quantity): one minute either side of the
    midnight that begins each day and of the one that ends it. Each order its own quantity."""
    out = []
    for day, begins, ends in DAYS[zone]:
        out += [
            (begins - MINUTE, day - timedelta(days=1)),
            (begins + MINUTE, day),
            (ends - MINUTE, day),
            (ends + MINUTE, day + timedelta(days=1)),
        ]
    return [(moment, day, index + 1) for index, (moment, day) in enumerate(out)]


def expected_days(placed, first: date | None = None, last: date | None = None) -> list[dict]:
    rows = defaultdict(lambda: {"orders": 0, "quantity": 0})
    for _, day, quantity in placed:
        if (first is None or day >= first) and (last is None or day <= last):
            rows[day]["orders"] += 1
            rows[day]["quantity"] += quantity
    return [
        {"day": day.isoformat(), **row, "revenue": str(PRICE * row["quantity"])}
        for day, row in sorted(rows.items())
    ]


def expected_weekdays(placed) -> list[dict]:
    rows = defaultdict(lambda: {"orders": 0, "quantity": 0})
    for _, day, quantity in placed:
        rows[day.isoweekday()]["orders"] += 1
        rows[day.isoweekday()]["quantity"] += quantity
    names = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    return [
        {"weekday": wd, "name": names[wd - 1], **row, "revenue": str(PRICE * row["quantity"])}
        for wd, row in sorted(rows.items())
    ]


@pytest.fixture
def zoned_shop(request, settings, mongo, staff_client):
    """The store in the zone (its summaries regrouped, as refresh_summaries does at start) and
    the orders of placements(zone), posted in one bulk POST /orders/. Returns them."""
    zone = request.param
    settings.SHOP_TIME_ZONE = zone
    sales.rebuild()
    (product_id,) = import_products(
        staff_client, [{"name": "Tea", "category": "tea", "price": str(PRICE), "stock": 10_000}]
    )
    placed = placements(zone)
    body = [
        {
            "customer": f"C{quantity}",
            "created_at": iso(moment),
            "items": [{"product_id": product_id, "quantity": quantity}],
        }
        for moment, _, quantity in placed
    ]
    response = staff_client.post("/orders/", body, format="json")
    assert response.status_code == 201, response.content
    return zone, placed


@pytest.fixture
def browser(client, staff_user, redis_client):
    client.force_login(staff_user)
    return client


def _window(zone: str) -> dict:
    """A UTC window with every order of the zone and a day to spare either side."""
    moments = [begins for _, begins, _ in DAYS[zone]] + [ends for _, _, ends in DAYS[zone]]
    spare = timedelta(days=2)
    return {"start": iso(min(moments) - spare), "end": iso(max(moments) + spare)}


def _csv(response) -> list[dict]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def _as_csv(rows: list[dict]) -> list[dict]:
    return [{key: str(value) for key, value in row.items()} for row in rows]


@pytest.mark.parametrize("zone", ZONES)
def test_the_hand_written_midnights_are_the_modules(settings, zone):
    """The table above is right (day lengths) and day_start agrees with it."""
    settings.SHOP_TIME_ZONE = zone
    for (day, begins, ends), hours in zip(DAYS[zone], DAY_HOURS[zone], strict=True):
        assert ends - begins == timedelta(hours=hours)
        assert sales.day_start(day) == begins
        assert sales.day_start(day + timedelta(days=1)) == ends


@pytest.mark.parametrize("zoned_shop", ZONES, indirect=True)
def test_stats_day_and_weekday_rows_are_the_shops_days(zoned_shop, staff_client):
    zone, placed = zoned_shop
    window = _window(zone)
    by_day = staff_client.get("/stats/sold/?" + urlencode({**window, "by": "day"}))
    assert by_day.status_code == 200, by_day.content
    body = by_day.json()
    assert body["time_zone"] == zone
    assert body["orders"] == len(placed)
    assert body["breakdown"] == expected_days(placed)
    # The JSON keeps UTC timestamps.
    assert body["start"] == window["start"] and body["start"].endswith("Z")

    by_weekday = staff_client.get("/stats/sold/?" + urlencode({**window, "by": "weekday"}))
    assert by_weekday.status_code == 200, by_weekday.content
    assert by_weekday.json()["breakdown"] == expected_weekdays(placed)

    csv_days = staff_client.get(
        "/stats/sold/?" + urlencode({**window, "by": "day", "format": "csv"})
    )
    assert _csv(csv_days) == _as_csv(expected_days(placed))
    csv_weekdays = staff_client.get(
        "/stats/sold/?" + urlencode({**window, "by": "weekday", "format": "csv"})
    )
    assert _csv(csv_weekdays) == _as_csv(expected_weekdays(placed))


@pytest.mark.parametrize("zoned_shop", ZONES, indirect=True)
def test_a_date_alone_on_the_api_is_the_shops_day(zoned_shop, staff_client):
    """?start=D&end=D+1: the two orders inside the shop's day D, not the UTC day's."""
    zone, placed = zoned_shop
    for day, _, _ in DAYS[zone]:
        query = {"start": day.isoformat(), "end": (day + timedelta(days=1)).isoformat()}
        response = staff_client.get("/stats/sold/?" + urlencode({**query, "by": "day"}))
        assert response.status_code == 200, response.content
        assert response.json()["breakdown"] == expected_days(placed, day, day)
        assert response.json()["orders"] == 2


def _day_table(html: str) -> list[dict]:
    table = re.search(r'<table id="day-table">.*?</table>', html, re.S).group(0)
    rows = re.findall(
        r'<tr><td>([0-9-]+)</td><td class="num">([\d,]+)</td><td class="num">([\d,]+)</td>'
        r'<td class="num">([^<]+)</td></tr>',
        table,
    )
    return [
        {
            "day": day,
            "orders": int(orders.replace(",", "")),
            "quantity": int(units.replace(",", "")),
            "revenue": unescape(revenue).replace("€", "").replace(",", ""),
        }
        for day, orders, units, revenue in rows
    ]


def _text(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</', html, re.S)
    assert match, element_id
    return unescape(match.group(1)).strip()


@pytest.mark.parametrize("zoned_shop", ZONES, indirect=True)
def test_sales_page_days_period_and_csv_are_the_shops(zoned_shop, browser):
    zone, placed = zoned_shop
    for day, _, _ in DAYS[zone]:
        first, last = day - timedelta(days=1), day + timedelta(days=1)
        query = {"start": first.isoformat(), "end": last.isoformat()}
        response = browser.get("/dashboard/sales/?" + urlencode(query))
        assert response.status_code == 200
        html = response.content.decode()
        assert _day_table(html) == expected_days(placed, first, last)
        # The period is the shop's days first..last: its four orders of these three days.
        assert _text(html, "total-orders") == "4"
        # Every day heading names the zone.
        assert _text(html, "totals-title") == f"{first} to {last} ({zone})"
        assert _text(html, "days-title") == f"Units and revenue per day ({zone})"
        assert f'<th scope="col">Day ({zone})</th>' in html

        # A date alone is the shop's day: the two orders inside it, not those a minute outside.
        single = browser.get("/dashboard/sales/?" + urlencode({"start": day, "end": day}))
        single_html = single.content.decode()
        assert _day_table(single_html) == expected_days(placed, day, day)
        assert _text(single_html, "total-orders") == "2"
        units = sum(quantity for _, local_day, quantity in placed if local_day == day)
        assert _text(single_html, "total-quantity") == str(units)

        download = browser.get(
            "/dashboard/sales/?" + urlencode({**query, "format": "csv", "table": "day"})
        )
        assert _csv(download) == _as_csv(expected_days(placed, first, last))


# +14:00 and -11:00: at any moment one of them is not on UTC's day.
@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_sales_page_defaults_to_the_shops_last_30_days(settings, mongo, browser, zone):
    settings.SHOP_TIME_ZONE = zone
    sales.rebuild()
    html = browser.get("/dashboard/sales/").content.decode()
    today = datetime.now(UTC).astimezone(shop_zone()).date()
    start = re.search(r'<input[^>]*name="start"[^>]*>', html).group(0)
    end = re.search(r'<input[^>]*name="end"[^>]*>', html).group(0)
    assert f'value="{today - timedelta(days=29)}"' in start
    assert f'value="{today}"' in end


def test_a_changed_zone_answers_503_until_refresh_summaries_regroups(settings, mongo, staff_client):
    """Orders imported in UTC; the shop moves to Adelaide: the stored figures are UTC days, so
    the figures answer 503 with Retry-After until refresh_summaries (run at start) regroups
    them; then they are exact in the new zone."""
    (product_id,) = import_products(
        staff_client, [{"name": "Tea", "category": "tea", "price": str(PRICE), "stock": 10_000}]
    )
    placed = placements("Australia/Adelaide")
    body = [
        {
            "customer": f"C{quantity}",
            "created_at": iso(moment),
            "items": [{"product_id": product_id, "quantity": quantity}],
        }
        for moment, _, quantity in placed
    ]
    assert staff_client.post("/orders/", body, format="json").status_code == 201
    query = "/stats/sold/?" + urlencode({**_window("Australia/Adelaide"), "by": "day"})
    in_utc = staff_client.get(query).json()["breakdown"]
    assert in_utc != expected_days(placed)  # the UTC days differ: the move matters

    settings.SHOP_TIME_ZONE = "Australia/Adelaide"
    refused = staff_client.get(query)
    assert refused.status_code == 503
    assert int(refused["Retry-After"]) > 0
    assert "sales figures" in refused.json()["detail"]

    call_command("refresh_summaries")
    response = staff_client.get(query)
    assert response.status_code == 200, response.content
    assert response.json()["breakdown"] == expected_days(placed)
    assert response.json()["time_zone"] == "Australia/Adelaide"
    call_command("rebuild_summaries", "--verify")


def test_an_unknown_zone_refuses_to_start():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "shopsite.settings_test",
        "SHOP_TIME_ZONE": "Mars/Olympus",
    }
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=settings.BASE_DIR,
    )
    assert done.returncode != 0
    assert "SHOP_TIME_ZONE" in done.stderr and "Mars/Olympus" in done.stderr
    assert "ImproperlyConfigured" in done.stderr


def test_a_regroup_longer_than_the_fold_lock_still_completes(
    settings, mongo, staff_client, monkeypatch
):
    """Nobody else wants the lock: a slow regroup (a big store; here a slow write) must finish."""
    (product_id,) = import_products(
        staff_client, [{"name": "Tea", "category": "tea", "price": str(PRICE), "stock": 10_000}]
    )
    placed = placements("Australia/Adelaide")
    body = [
        {
            "customer": f"C{quantity}",
            "created_at": iso(moment),
            "items": [{"product_id": product_id, "quantity": quantity}],
        }
        for moment, _, quantity in placed
    ]
    assert staff_client.post("/orders/", body, format="json").status_code == 201
    settings.SALES_FOLD_LOCK_SECONDS = 1.0
    settings.SHOP_TIME_ZONE = "Australia/Adelaide"
    scan = repository.scan_all

    def slow_scan():
        for order in scan():
            time.sleep(0.1)  # dozens of orders: the regroup lasts several lock lifetimes
            yield order

    monkeypatch.setattr(repository, "scan_all", slow_scan)
    monkeypatch.setattr(importlib.import_module("orders.sales.fold"), "REBUILD_BATCH", 3)
    call_command("refresh_summaries")
    query = "/stats/sold/?" + urlencode({**_window("Australia/Adelaide"), "by": "day"})
    response = staff_client.get(query)
    assert response.status_code == 200, response.content
    assert response.json()["breakdown"] == expected_days(placed)
