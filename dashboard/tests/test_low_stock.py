"""The home page's low-stock panel lists the lowest stocks first, however old the products."""

import re

from django.test import Client

from catalog import selectors as catalog_selectors
from catalog import services as catalog_services
from dashboard.views import HOME_LIST_SIZE


def _create(name: str, stock: int) -> dict:
    return catalog_services.product_create(
        name=name, category="Tools", price_cents=100, stock=stock, available=True, user_id=None
    )


def test_low_stock_panel_lists_the_lowest_stocks_first(mongo, redis_client, staff_user, settings):
    settings.LOW_STOCK_THRESHOLD = 5
    # The oldest products have the lowest stock; more newer low-stock products than the panel
    # shows follow. Sorting only the newest page would miss the products at 0 and 1.
    _create("Zero", 0)
    _create("One", 1)
    for i in range(HOME_LIST_SIZE + 3):
        _create(f"Four {i:02d}", 4)
    _create("Above", 6)

    rows, count = catalog_selectors.products_low_stock(threshold=5, limit=HOME_LIST_SIZE)
    assert count == HOME_LIST_SIZE + 5
    assert [row["stock"] for row in rows] == [0, 1] + [4] * (HOME_LIST_SIZE - 2)
    assert [row["name"] for row in rows[:3]] == ["Zero", "One", "Four 00"]

    client = Client()
    client.force_login(staff_user)
    html = client.get("/dashboard/").content.decode()
    panel = html[html.index('id="panel-low-stock"') :]
    panel = panel[: panel.index("</article>")]
    names = re.findall(r"<td>(Zero|One|Four \d\d|Above)<br>", panel)
    assert names == ["Zero", "One"] + [f"Four {i:02d}" for i in range(HOME_LIST_SIZE - 2)]
