"""The orders page sorts by date, total or customer, server-side and kept in the URL (issue 29):
every order of the window once over all pages, in order, ties broken by id; filters and sort
combine; an unknown order is a 400. Newest first (the default) still walks the days."""

import csv
import io
import re
from datetime import timedelta

import pytest

from catalog import services as catalog_services
from orders import repository, selectors, services, views
from orders.tests.conftest import on_the_wire
from orders.tests.test_stats_reads import Listener
from shopsite.timeutil import as_utc, utcnow

pytestmark = pytest.mark.usefixtures("mongo", "redis_client")

URL = "/dashboard/orders/last-30-days/"
PAGE = 7
CUSTOMERS = ["ada", "Ada", "Bob", "carol", "Dan"]
SORTS = ["created", "-created", "total", "-total", "customer", "-customer"]


@pytest.fixture
def shop(staff_user, monkeypatch):
    """31 orders in the window (ties of time, total and customer), 3 older; 3 cancelled and
    4 fulfilled. Pages of 7."""
    monkeypatch.setattr(views, "PAGE_SIZE", PAGE)
    services.sales_summaries_refresh()
    cheap, dear = (
        catalog_services.product_create(
            name=name, category="c", price_cents=price, stock=10_000, user_id=staff_user.pk
        )
        for name, price in (("Cup", 250), ("Pot", 400))
    )
    now = utcnow()
    orders = []
    for n in range(30):
        # Totals repeat (2 x 250 = 500 = ...), days repeat, customers repeat.
        item = {"product_id": str((cheap, dear)[n % 2]["_id"]), "quantity": n % 4 + 1}
        at = now - timedelta(days=n % 20, hours=1 + n % 5, minutes=n)
        orders.append({"customer": CUSTOMERS[n % 5], "items": [item], "created_at": at})
    orders.append({**orders[3]})  # the same time, customer and total as another: only ids differ
    for n in range(3):  # outside the window
        item = {"product_id": str(cheap["_id"]), "quantity": 9}
        at = now - timedelta(days=31 + n)
        orders.append({"customer": "Old", "items": [item], "created_at": at})
    placed = services.orders_place_bulk(orders=orders, user_id=staff_user.pk)
    for doc in placed[:3]:
        services.order_cancel(order_id=str(doc["_id"]), user_id=staff_user.pk)
    for doc in placed[3:7]:
        services.order_fulfil(order_id=str(doc["_id"]), user_id=staff_user.pk)
    return placed


def _expected(sort: str, customer=None, status=None) -> list[str]:
    since = utcnow() - timedelta(days=30)
    docs = [
        doc for doc in repository.orders().find({})
        if as_utc(doc["created_at"]) >= since
        and customer in (None, doc["customer"])
        and status in (None, selectors.order_status(doc))
    ]  # fmt: skip
    keys = {
        "created": lambda d: (d["created_at"], d["_id"]),
        "total": lambda d: (d["total_cents"], d["_id"]),
        "customer": lambda d: (d["customer"].casefold(), d["customer"], d["_id"]),
    }[sort.removeprefix("-")]
    docs.sort(key=keys, reverse=sort.startswith("-"))
    return [str(doc["_id"]) for doc in docs]


def _ids(html: str) -> list[str]:
    body = re.search(r"<tbody>.*?</tbody>", html, re.S).group(0)
    return re.findall(r'href="/dashboard/orders/([0-9a-f]{24})/">Details', body)


def _all_pages(client, query: str) -> tuple[list[str], int, list[str]]:
    """(the ids of every page followed by its Next link, the count shown, the next links)."""
    ids, links, url = [], [], URL + query
    while True:
        response = client.get(url)
        assert response.status_code == 200, response.content[:200]
        html = response.content.decode()
        ids += _ids(html)
        count = int(re.search(r"(\d+) in all", html).group(1))
        found = re.search(r'<a href="([^"]+)" rel="next">', html)
        if not found:
            return ids, count, links
        links.append(found.group(1).replace("&amp;", "&"))
        url = URL + links[-1]


@pytest.mark.parametrize("sort", SORTS)
def test_every_order_once_in_order_over_the_pages(staff_browser, shop, sort):
    ids, count, links = _all_pages(staff_browser, f"?sort={sort}")
    expected = _expected(sort)
    assert len(expected) == 31
    assert ids == expected  # no repeat, no gap, ties by id
    assert count == len(expected) == selectors.orders_count_since(days=30)
    assert len(links) == 4 and all(f"sort={sort}" in link for link in links)


def test_the_default_is_newest_first(staff_browser, shop):
    assert _all_pages(staff_browser, "")[0] == _expected("-created")
    assert _all_pages(staff_browser, "?sort=")[0] == _expected("-created")


@pytest.mark.parametrize(
    ("query", "customer", "status"),
    [
        ("?status=placed&sort=-total", None, "placed"),
        ("?customer=Ada&sort=created", "Ada", None),
        ("?customer=ada&status=fulfilled&sort=-customer", "ada", "fulfilled"),
        ("?status=cancelled&sort=customer", None, "cancelled"),
    ],
)
def test_filters_combine_with_the_sort(staff_browser, shop, query, customer, status):
    sort = query.rsplit("sort=", 1)[1]
    ids, count, links = _all_pages(staff_browser, query)
    expected = _expected(sort, customer, status)
    assert expected and ids == expected
    assert count == selectors.orders_count_since(days=30, customer=customer, status=status)
    assert all(query.lstrip("?").split("&")[0] in link and "sort=" in link for link in links)


@pytest.mark.parametrize("query", ["?sort=-total", "?status=placed&sort=customer", ""])
def test_the_csv_download_keeps_the_pages_order(staff_browser, shop, query):
    sort = query.rsplit("sort=", 1)[1] if "sort=" in query else "-created"
    status = "placed" if "status=placed" in query else None
    response = staff_browser.get(URL + (query or "?") + "&format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    ids = list(dict.fromkeys(row["order_id"] for row in rows))  # a row per item
    assert ids == _expected(sort, None, status)


def test_a_csv_with_an_unknown_order_is_a_400(staff_browser, shop):
    response = staff_browser.get(URL, {"sort": "colour", "format": "csv"})
    assert response.status_code == 400 and response.content.decode().startswith("sort:")


def _header(html: str, label: str) -> tuple[str | None, str]:
    opening = r'<th scope="col" class="sortable[^"]*"( aria-sort="(\w+)")?><a href="([^"]+)">'
    th = re.search(opening + label, html)
    assert th, label
    return th.group(2), th.group(3).replace("&amp;", "&")


def test_headers_show_the_order_and_toggle_keeping_the_filters(staff_browser, shop):
    html = staff_browser.get(URL).content.decode()
    assert _header(html, "Placed") == ("descending", "?sort=created")  # the default, marked
    assert _header(html, "Total") == (None, "?sort=total")
    html = staff_browser.get(URL + "?status=placed&sort=total&page=2").content.decode()
    assert _header(html, "Total") == ("ascending", "?status=placed&sort=-total")
    assert _header(html, "Customer") == (None, "?status=placed&sort=customer")
    assert _header(html, "Placed") == (None, "?status=placed&sort=created")
    assert '<input type="hidden" name="sort" value="total">' in html
    # The status links keep the order; a new filter starts on page 1.
    cancelled = re.search(r'<a href="([^"]+)">Cancelled</a>', html).group(1)
    assert cancelled.replace("&amp;", "&") == "?sort=total&status=cancelled"
    html = staff_browser.get(URL + "?sort=-customer").content.decode()
    assert _header(html, "Customer") == ("descending", "?sort=customer")


@pytest.mark.parametrize("bad", ["colour", "--total", "created_at", "Total"])
def test_an_unknown_order_is_a_400_naming_the_parameter(staff_browser, shop, bad):
    response = staff_browser.get(URL, {"sort": bad})
    assert response.status_code == 400
    assert response.content.decode().startswith("sort:")


def test_the_recent_orders_page_does_not_sort(staff_browser, shop):
    assert 'class="sortable"' not in staff_browser.get("/dashboard/orders/").content.decode()


def test_default_walks_and_other_orders_read_the_window_by_equality(
    staff_browser, shop, monkeypatch
):
    """Newest first reads a few days' orders; another order reads every order of the window
    (its sort fields), then the page by id; neither sorts in the store or asks for a range
    (FerretDB v1.24 would decode every order ever placed for either)."""
    listener = Listener()
    with on_the_wire(listener, monkeypatch):
        returned = {}
        for query in ("", "?sort=-total"):
            listener.clear()
            assert staff_browser.get(URL + query).status_code == 200
            finds = [body for name, body in listener.commands if name == "find"]
            for body in finds:
                assert "sort" not in body, body
                if body["find"] == repository.COLLECTION:
                    assert list(body["filter"]) in (["day"], ["hour"], ["minute"], ["_id"])
                    assert not isinstance(next(iter(body["filter"].values())), dict)
            returned[query] = listener.returned[repository.COLLECTION]
        window = selectors.orders_count_since(days=30)
    assert returned[""] < window  # the walk stops once the page is full
    assert returned["?sort=-total"] == window + PAGE  # the window's keys, then the page
