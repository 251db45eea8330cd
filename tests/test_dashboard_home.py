"""Home page (/dashboard/): today's sales, low stock, latest events, backend health; each panel
degrades on its own when its backend is down."""

from datetime import timedelta

import pytest
from django.test import Client

from catalog import services as catalog_services
from eventlog import services as event_services
from eventlog.manager import get_log_manager
from orders import services as order_services
from shopsite.timeutil import utcnow
from tests import servicectl

# Nothing listens on port 1: connecting to it is a real, immediate connection failure.
DEAD_MONGODB_URI = "mongodb://127.0.0.1:1/?directConnection=true"


@pytest.fixture
def stores(mongo, redis_client, cassandra_keyspace):
    get_log_manager().truncate()
    return mongo


@pytest.fixture
def staff_browser(staff_user, stores):
    client = Client()
    client.force_login(staff_user)
    return client


def _product(name, stock, *, category="Tools", price_cents=1000, available=True):
    return catalog_services.product_create(
        name=name,
        category=category,
        price_cents=price_cents,
        stock=stock,
        available=available,
        user_id=None,
    )


def _panel(html: str, panel_id: str) -> str:
    start = html.index(f'id="{panel_id}"')
    return html[start : html.index("</article>", start)]


def test_home_shows_today_sales_low_stock_and_events(staff_browser, settings):
    settings.LOW_STOCK_THRESHOLD = 3
    hammer = _product("Hammer", 10, price_cents=1250)
    _product("Nails", 2)
    _product("Empty box", 0)
    _product("Saw", 3, available=False)  # not for sale: not a low-stock worry
    _product("Drill", 4)  # above the threshold
    order_services.order_place(
        customer="Ada", items=[{"product_id": str(hammer["_id"]), "quantity": 2}], user_id=None
    )
    # Yesterday's order counts in "latest orders" but not in today's figures.
    order_services.order_place(
        customer="Bob",
        items=[{"product_id": str(hammer["_id"]), "quantity": 1}],
        created_at=utcnow() - timedelta(days=1, hours=1),
        user_id=None,
    )
    event_services.log_create(event_type="home_test_event", user_id="42", metadata="x")

    response = staff_browser.get("/dashboard/")
    assert response.status_code == 200
    html = response.content.decode()

    sales = _panel(html, "panel-sales")
    assert '<dd id="today-orders">1</dd>' in sales
    assert '<dd id="today-units">2</dd>' in sales
    assert '<dd id="today-revenue">€25.00</dd>' in sales  # SHOP_CURRENCY EUR, en-US
    assert "Ada" in sales and "Bob" in sales

    low = _panel(html, "panel-low-stock")
    assert '<strong id="low-stock-count">2</strong>' in low
    assert "Nails" in low and "Empty box" in low
    assert "Saw" not in low and "Drill" not in low and "Hammer" not in low
    assert low.index("Empty box") < low.index("Nails")  # lowest stock first

    events = _panel(html, "panel-events")
    assert "home_test_event" in events

    health = _panel(html, "panel-health")
    for backend in ("mongodb", "redis", "cassandra"):
        assert backend in health


def test_home_empty_states_say_what_to_do_next(staff_browser):
    html = staff_browser.get("/dashboard/").content.decode()
    assert "Place the first order" in _panel(html, "panel-sales")
    assert "See all products" in _panel(html, "panel-low-stock")
    assert "Open the event log" in _panel(html, "panel-events")


def test_home_mongodb_down_degrades_only_its_panels(staff_browser, settings):
    """MongoDB unreachable (a real refused connection): page 200, the two MongoDB panels say so."""
    event_services.log_create(event_type="still_readable", user_id="1", metadata=None)
    settings.MONGODB_URI = DEAD_MONGODB_URI
    settings.BACKEND_TIMEOUT_SECONDS = 0.5

    response = staff_browser.get("/dashboard/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    html = response.content.decode()
    assert "mongodb unavailable" in _panel(html, "panel-sales")
    assert "mongodb unavailable" in _panel(html, "panel-low-stock")
    assert "still_readable" in _panel(html, "panel-events")
    assert "unavailable" not in _panel(html, "panel-events")


def test_home_needs_staff(client, plain_user, stores):
    response = client.get("/dashboard/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(plain_user)
    assert client.get("/dashboard/").status_code == 403


@pytest.mark.fault
@pytest.mark.parametrize("service", ["mongodb", "postgres"])
def test_home_with_mongodb_stopped(staff_browser, service):
    servicectl.require(service)
    with servicectl.stopped(service):
        response = staff_browser.get("/dashboard/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    html = response.content.decode()
    assert "mongodb unavailable" in _panel(html, "panel-sales")
    assert "mongodb unavailable" in _panel(html, "panel-low-stock")
    assert "down" in _panel(html, "panel-health")


@pytest.mark.fault
def test_home_with_cassandra_stopped(staff_browser):
    _product("Nails", 1)
    with servicectl.stopped("cassandra"):
        response = staff_browser.get("/dashboard/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    html = response.content.decode()
    assert "cassandra unavailable" in _panel(html, "panel-events")
    assert "Nails" in _panel(html, "panel-low-stock")
