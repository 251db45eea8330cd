"""The products page sorts by name, price, stock or creation, server-side, kept in the URL and
across pages; an unknown order is a 400 naming the parameter."""

import re

import pytest

from catalog import services

pytestmark = pytest.mark.usefixtures("mongo", "redis_client")


def _names(html: str) -> list[str]:
    table = re.search(r'<table id="products-table".*?</table>', html, re.S).group(0)
    return re.findall(r"<tr>\s*<td>([^<]+)</td>", table)


@pytest.fixture
def products(staff_user):
    rows = [("pear", 300, 7), ("Apple", 100, 900), ("fig", 200, 0), ("banana", 250, 42)]
    for name, price, stock in rows:
        services.product_create(
            name=name, category="fruit", price_cents=price, stock=stock, user_id=staff_user.pk
        )
    return rows


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["Apple", "banana", "fig", "pear"]),
        ("-name", ["pear", "fig", "banana", "Apple"]),
        ("price", ["Apple", "fig", "banana", "pear"]),
        ("-price", ["pear", "banana", "fig", "Apple"]),
        ("stock", ["fig", "pear", "banana", "Apple"]),
        ("-stock", ["Apple", "banana", "pear", "fig"]),
        ("created", ["pear", "Apple", "fig", "banana"]),
        ("-created", ["banana", "fig", "Apple", "pear"]),
        ("", ["banana", "fig", "Apple", "pear"]),
    ],
)
def test_sort_orders(staff_browser, products, sort, expected):
    response = staff_browser.get("/dashboard/products/", {"sort": sort} if sort else {})
    assert response.status_code == 200
    assert _names(response.content.decode()) == expected


def test_headers_link_to_the_other_direction_and_keep_filters(staff_browser, products):
    html = staff_browser.get("/dashboard/products/?category=fruit&sort=stock").content.decode()
    stock = re.search(
        r'<th scope="col" class="sortable num" aria-sort="ascending"><a href="([^"]+)">Stock', html
    )
    assert stock, "the stock column says it sorts ascending"
    assert stock.group(1).replace("&amp;", "&") == "?category=fruit&sort=-stock"
    # The filter form keeps the order too.
    assert '<input type="hidden" name="sort" value="stock">' in html


def test_pages_keep_the_order(staff_browser, staff_user, settings):
    for i in range(55):
        services.product_create(
            name=f"p{i:02d}", category="c", price_cents=100, stock=i, user_id=staff_user.pk
        )
    first = staff_browser.get("/dashboard/products/?sort=-stock").content.decode()
    next_url = re.search(r'<a href="([^"]+)" rel="next">', first).group(1).replace("&amp;", "&")
    assert "sort=-stock" in next_url
    second = staff_browser.get("/dashboard/products/" + next_url).content.decode()
    names = _names(first) + _names(second)
    assert names == [f"p{i:02d}" for i in range(54, -1, -1)]


def test_unknown_order_is_400_naming_the_parameter(staff_browser, products):
    response = staff_browser.get("/dashboard/products/?sort=colour")
    assert response.status_code == 400
    assert response.content.decode().startswith("sort:")


def test_money_and_counts_are_formatted(staff_browser, staff_user):
    services.product_create(
        name="Big", category="c", price_cents=123456789, stock=999999617, user_id=staff_user.pk
    )
    html = staff_browser.get("/dashboard/products/").content.decode()
    assert "€1,234,567.89" in html and "999,999,617" in html
