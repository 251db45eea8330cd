"""The dashboard in the shop's time zone (SHOP_TIME_ZONE), with real services: "today" on the
home page is the shop's today; every time shown carries the zone's abbreviation (2026-12-07
14:05 CET) and every date is ISO; the zone is named next to day headings. JSON keeps UTC.

Expected local times are written out by hand where the moment is fixed (the code under test
uses zoneinfo); moments relative to now are converted with zoneinfo."""

import re
from datetime import UTC, date, datetime, time, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.template.loader import render_to_string
from django.test import Client

from eventlog.manager import get_log_manager
from orders import sales
from orders.tests.test_stats import import_products
from shopsite.templatetags.shop_format import iso_local, shop_date, shop_datetime
from shopsite.timeutil import iso, utcnow

ZONES = ["Australia/Adelaide", "Asia/Kathmandu", "America/New_York", "UTC"]


def _zoned(settings, zone: str) -> None:
    """The store in this zone, its summaries regrouped (refresh_summaries does it at start)."""
    settings.SHOP_TIME_ZONE = zone
    sales.rebuild()


@pytest.fixture
def browser(staff_user, redis_client):
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.fixture
def product_id(mongo, staff_client) -> str:
    (pid,) = import_products(
        staff_client, [{"name": "Tea", "category": "tea", "price": "2.00", "stock": 1_000}]
    )
    return pid


def _place(staff_client, product_id, quantity, created_at=None) -> dict:
    order = {
        "customer": f"C{quantity}",
        "items": [{"product_id": product_id, "quantity": quantity}],
    }
    if created_at is not None:
        order["created_at"] = iso(created_at)
    response = staff_client.post("/orders/", [order], format="json")
    assert response.status_code == 201, response.content
    return response.json()[0]


def _text(html: str, element_id: str, tag: str = "dd") -> str:
    """The text of the element with this id (its tags dropped), spaces collapsed."""
    match = re.search(rf'<{tag} id="{element_id}"[^>]*>(.*?)</{tag}>', html, re.S)
    assert match, element_id
    return " ".join(unescape(re.sub(r"<[^>]+>", "", match.group(1))).split())


# --- the filters --------------------------------------------------------------------------------

MOMENT = datetime(2026, 12, 7, 13, 5, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "local", "abbreviation"),
    [
        ("Europe/Berlin", "2026-12-07 14:05:09", "CET"),
        ("Asia/Kolkata", "2026-12-07 18:35:09", "IST"),
        ("Australia/Adelaide", "2026-12-07 23:35:09", "ACDT"),
        ("Asia/Kathmandu", "2026-12-07 18:50:09", "+0545"),
        ("America/New_York", "2026-12-07 08:05:09", "EST"),
        ("Pacific/Kiritimati", "2026-12-08 03:05:09", "+14"),
        ("UTC", "2026-12-07 13:05:09", "UTC"),
    ],
)
def test_times_in_the_shops_zone_with_its_abbreviation(settings, zone, local, abbreviation):
    settings.SHOP_TIME_ZONE = zone
    day, clock = local.split()
    assert shop_datetime(MOMENT, "short") == f"{day} {clock[:5]} {abbreviation}"
    assert shop_datetime(MOMENT) == f"{local} {abbreviation}"
    assert shop_datetime(MOMENT, "time") == f"{clock} {abbreviation}"
    assert shop_date(MOMENT) == day
    # The same moment as a naive UTC datetime (some drivers) and as ISO text (backup manifests).
    assert shop_datetime(MOMENT.replace(tzinfo=None)) == f"{local} {abbreviation}"
    assert shop_datetime("2026-12-07T13:05:09.250Z") == f"{local} {abbreviation}"


def test_the_abbreviation_follows_daylight_saving(settings):
    settings.SHOP_TIME_ZONE = "Europe/Berlin"
    summer = datetime(2026, 7, 7, 13, 5, tzinfo=UTC)
    assert shop_datetime(summer, "short") == "2026-07-07 15:05 CEST"
    settings.SHOP_TIME_ZONE = "Australia/Adelaide"
    # One minute either side of the end of daylight saving (03:00 ACDT becomes 02:00 ACST).
    before, after = (datetime(2025, 4, 5, 16, m, tzinfo=UTC) for m in (29, 31))
    assert shop_datetime(before, "short") == "2025-04-06 02:59 ACDT"
    assert shop_datetime(after, "short") == "2025-04-06 02:01 ACST"


def test_dates_are_iso_and_other_values_pass_through(settings):
    settings.SHOP_TIME_ZONE = "America/New_York"
    assert shop_date(date(987, 3, 4)) == "0987-03-04"  # a date is not moved to another zone
    assert shop_date(datetime(2026, 3, 8, 3, 0, tzinfo=UTC)) == "2026-03-07"
    assert shop_date("2026-03-08T03:00:00Z") == "2026-03-07"
    assert shop_datetime(datetime(5, 1, 1, tzinfo=UTC)) == "0004-12-31 19:03:58 LMT"
    # The very first moments cannot be moved west: shown in UTC rather than failing the page.
    assert shop_datetime(datetime.min.replace(tzinfo=UTC)) == "0001-01-01 00:00:00 UTC"
    assert shop_datetime(None) == shop_date(None) == ""
    assert shop_datetime("not a time") == "not a time"
    assert shop_date(42) == "42"
    assert iso_local(MOMENT) == "2026-12-07T08:05:09-05:00"
    assert iso_local("junk") == ""


# --- the home page's today ----------------------------------------------------------------------


@pytest.mark.parametrize("zone", ZONES)
def test_home_today_is_the_shops_today(settings, zone, staff_client, browser, product_id):
    """An order now, one a minute after the shop's midnight and one a minute before it: today's
    figures count the first two only, whatever the UTC day."""
    _zoned(settings, zone)
    now = utcnow()
    today = now.astimezone(ZoneInfo(zone)).date()
    midnight = datetime.combine(today, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)
    _place(staff_client, product_id, 1)
    _place(staff_client, product_id, 2, midnight - timedelta(minutes=1))  # yesterday's
    counted = 1
    if midnight + timedelta(minutes=1) < now:  # not in the future in the day's first minute
        _place(staff_client, product_id, 4, midnight + timedelta(minutes=1))
        counted += 4

    html = browser.get("/dashboard/").content.decode()
    assert _text(html, "sales-title", "h2") == f"Today, {today.isoformat()} ({zone})"
    assert _text(html, "today-orders") == str(1 + (counted > 1))
    assert _text(html, "today-units") == str(counted)
    assert _text(html, "today-revenue") == f"€{2 * counted}.00"
    # The latest orders show local times with the zone's abbreviation.
    yesterday = (midnight - timedelta(minutes=1)).astimezone(ZoneInfo(zone))
    assert f"{yesterday:%Y-%m-%d %H:%M} {yesterday.tzname()}" in html
    assert f"{yesterday:%H:%M}" == "23:59"


def test_home_today_heading_while_the_sales_figures_are_down(settings, browser, mongo):
    """A changed zone: the sales panel waits for refresh_summaries, the heading still names the
    shop's today and its zone."""
    settings.SHOP_TIME_ZONE = "Asia/Kathmandu"  # the store's summaries are UTC's
    html = browser.get("/dashboard/").content.decode()
    today = utcnow().astimezone(ZoneInfo("Asia/Kathmandu")).date()
    assert _text(html, "sales-title", "h2") == f"Today, {today} (Asia/Kathmandu)"
    assert "sales figures unavailable" in html
    assert 'id="today-orders"' not in html


# --- times on the other pages -------------------------------------------------------------------

# 2025-04-05T13:29Z is 23:59 in Adelaide (ACDT, +10:30) the evening before daylight saving ends.
OLD = datetime(2025, 4, 5, 13, 29, 30, tzinfo=UTC)
OLD_SHOWN = "2025-04-05 23:59:30 ACDT"


def test_order_pages_show_the_shops_times(settings, staff_client, browser, product_id):
    _zoned(settings, "Australia/Adelaide")
    old = _place(staff_client, product_id, 1, OLD)
    recent = _place(staff_client, product_id, 2, utcnow() - timedelta(hours=30))
    # JSON keeps UTC.
    assert old["created_at"] == "2025-04-05T13:29:30Z"

    detail = browser.get(f"/dashboard/orders/{old['id']}/").content.decode()
    assert _text(detail, "order-placed-at") == OLD_SHOWN
    assert '<time datetime="2025-04-05T13:29:30+00:00">' in detail
    assert "(UTC)" not in detail
    cancel = browser.get(f"/dashboard/orders/{old['id']}/cancel/").content.decode()
    assert f"placed {OLD_SHOWN}," in cancel

    shown = datetime.fromisoformat(recent["created_at"]).astimezone(ZoneInfo("Australia/Adelaide"))
    recent_text = f"{shown:%Y-%m-%d %H:%M:%S} {shown.tzname()}"
    listed = browser.get("/dashboard/orders/").content.decode()
    assert OLD_SHOWN in listed and recent_text in listed
    assert "Placed (UTC)" not in listed
    last_days = browser.get("/dashboard/orders/last-30-days/").content.decode()
    assert recent_text in last_days and OLD_SHOWN not in last_days

    assert staff_client.post(f"/orders/{recent['id']}/fulfil/").status_code == 200
    fulfilled = browser.get(f"/dashboard/orders/{recent['id']}/").content.decode()
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d AC[DS]T", _text(fulfilled, "order-fulfilled-at")
    )
    assert staff_client.post(f"/orders/{old['id']}/cancel/", {}, format="json").status_code == 200
    cancelled = browser.get(f"/dashboard/orders/{old['id']}/").content.decode()
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d AC[DS]T", _text(cancelled, "order-cancelled-at")
    )


def test_sales_page_customer_times_are_the_shops(settings, staff_client, browser, product_id):
    _zoned(settings, "Australia/Adelaide")
    _place(staff_client, product_id, 1, OLD)
    html = browser.get("/dashboard/sales/?customer=C1").content.decode()
    assert "2025-04-05 23:59 ACDT" in html  # first and last order
    assert OLD_SHOWN in html  # the recent orders table


def test_products_and_events_pages_show_the_shops_times(
    settings, browser, product_id, cassandra_keyspace
):
    settings.SHOP_TIME_ZONE = "Asia/Kathmandu"
    html = browser.get("/dashboard/products/").content.decode()
    assert re.search(r">\d{4}-\d\d-\d\d \d\d:\d\d \+0545</time>", html)

    manager = get_log_manager()
    manager.truncate()
    moment = utcnow().replace(second=7, microsecond=0) - timedelta(minutes=3)
    entry = manager.insert(event_type="tz_probe", user_id="7", metadata=None, timestamp=moment)
    local = moment.astimezone(ZoneInfo("Asia/Kathmandu"))
    assert local.utcoffset() == timedelta(hours=5, minutes=45)
    events = browser.get("/dashboard/events/").content.decode()
    assert f"{local:%Y-%m-%d %H:%M:%S} +0545</time>" in events
    home = browser.get("/dashboard/").content.decode()
    assert f"{local:%H:%M:%S} +0545</time>" in home
    edit = browser.get(f"/dashboard/events/{entry.event_id}/edit/").content.decode()
    assert f"{local:%Y-%m-%d %H:%M:%S} +0545</time>" in edit
    assert "Time (UTC)" not in edit


def test_backups_show_the_shops_times(settings):
    settings.SHOP_TIME_ZONE = "America/New_York"
    backup = {
        "name": "mongo-20251102-063000-000",
        "created_at": "2025-11-02T06:30:00Z",  # 01:30 EST: the second 01:30 of that night
        "status": "ok",
        "size_bytes": 1234,
        "documents": 3,
        "collections": {"orders": 3},
    }
    restore = {"name": backup["name"], "status": "ok", "finished_at": "2025-11-02T05:31:00.500Z"}
    table = render_to_string("backups/_table.html", {"backups": [backup], "restore": restore})
    assert '<time datetime="2025-11-02T06:30:00Z">2025-11-02 01:30:00 EST</time>' in table
    assert "done at 2025-11-02 01:31:00 EDT" in table  # the first 01:31, before the clocks fell
    assert "Started (UTC)" not in table
    confirm = render_to_string(
        "backups/restore_confirm.html",
        {"name": backup["name"], "backup": backup, "replaced": [], "untouched": []},
    )
    assert "was taken at 2025-11-02 01:30:00 EST (" in confirm


def test_every_page_names_the_zone(settings, browser, mongo):
    settings.SHOP_TIME_ZONE = "Asia/Kathmandu"
    for path in ("/dashboard/", "/dashboard/products/", "/dashboard/events/"):
        html = browser.get(path).content.decode()
        assert _text(html, "shop-time-zone", "span") == "Asia/Kathmandu", path
