"""Fulfil and cancel on the dashboard (Django's test client): the order page's status, times and
buttons, the cancel's confirm page with its reason, the status filter and marks in the lists, the
CSV's status column and the home page's count of orders to fulfil."""

import csv
import io
import json

import pytest
from bson import ObjectId
from django.test import Client

from catalog import services as catalog_services
from catalog.tests.helpers import events
from orders import services

pytestmark = pytest.mark.usefixtures("mongo", "redis_client", "summaries")


@pytest.fixture
def summaries(mongo):
    services.sales_summaries_refresh()  # the emptied store's summaries built, as on a new shop


def product(user, stock=10, **fields):
    data = {"name": "Teapot", "category": "kitchen", "price_cents": 1250, "stock": stock}
    return catalog_services.product_create(**{**data, **fields}, user_id=user.pk)


def order(user, doc, quantity=2, customer="Ada") -> str:
    placed = services.order_place(
        customer=customer,
        items=[{"product_id": str(doc["_id"]), "quantity": quantity}],
        user_id=user.pk,
    )
    return str(placed["_id"])


def stock(doc) -> int:
    from catalog import selectors

    return selectors.product_get(product_id=doc["_id"])["stock"]


def page(client, path) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_order_page_shows_status_and_the_actions(staff_browser, staff_user):
    order_id = order(staff_user, product(staff_user))
    html = page(staff_browser, f"/dashboard/orders/{order_id}/")
    assert 'id="order-status">placed<' in html
    assert f'action="/dashboard/orders/{order_id}/fulfil/"' in html
    assert "csrfmiddlewaretoken" in html
    assert f'href="/dashboard/orders/{order_id}/cancel/"' in html


def test_fulfil_from_the_page(staff_browser, staff_user, redis_client):
    order_id = order(staff_user, product(staff_user))
    response = staff_browser.post(f"/dashboard/orders/{order_id}/fulfil/")
    assert response.status_code == 302
    assert response["Location"] == f"/dashboard/orders/{order_id}/"
    html = page(staff_browser, response["Location"])
    assert 'id="order-status">fulfilled<' in html and 'id="order-fulfilled-at"' in html
    assert "Order fulfilled." in html
    assert "fulfil/" not in html and "cancel/" not in html  # nothing left to do
    fulfilled = events(redis_client, "order_fulfilled")
    assert [e["user_id"] for e in fulfilled] == [str(staff_user.pk)]
    assert json.loads(fulfilled[0]["metadata"])["order_id"] == order_id
    assert staff_browser.get(f"/dashboard/orders/{order_id}/fulfil/").status_code == 405


def test_cancel_asks_then_cancels_with_the_reason(staff_browser, staff_user, redis_client):
    teapot = product(staff_user)
    order_id = order(staff_user, teapot, quantity=3)
    assert stock(teapot) == 7
    confirm = page(staff_browser, f"/dashboard/orders/{order_id}/cancel/")
    assert "Cancel the order of Ada?" in confirm and 'name="reason"' in confirm
    assert "3 × Teapot" in confirm
    assert stock(teapot) == 7  # asking changes nothing

    response = staff_browser.post(
        f"/dashboard/orders/{order_id}/cancel/", {"reason": "  wrong size  "}
    )
    assert response.status_code == 302
    html = page(staff_browser, response["Location"])
    assert 'id="order-status">cancelled<' in html
    assert 'id="order-cancel-reason">wrong size<' in html and 'id="order-cancelled-at"' in html
    assert stock(teapot) == 10
    cancelled = events(redis_client, "order_cancelled")
    assert [e["user_id"] for e in cancelled] == [str(staff_user.pk)]
    assert json.loads(cancelled[0]["metadata"])["reason"] == "wrong size"

    # Sent again (a resubmitted form): nothing more goes back.
    staff_browser.post(f"/dashboard/orders/{order_id}/cancel/", {"reason": "again"})
    assert stock(teapot) == 10
    assert "cannot be cancelled again" in page(
        staff_browser, f"/dashboard/orders/{order_id}/cancel/"
    )


def test_cancel_without_a_reason(staff_browser, staff_user):
    teapot = product(staff_user)
    order_id = order(staff_user, teapot)
    staff_browser.post(f"/dashboard/orders/{order_id}/cancel/", {"reason": ""})
    html = page(staff_browser, f"/dashboard/orders/{order_id}/")
    assert 'id="order-cancel-reason">none given<' in html
    assert stock(teapot) == 10


def test_too_long_reason_is_refused_on_the_form(staff_browser, staff_user):
    teapot = product(staff_user)
    order_id = order(staff_user, teapot)
    response = staff_browser.post(f"/dashboard/orders/{order_id}/cancel/", {"reason": "r" * 501})
    assert response.status_code == 200
    assert "at most 500 characters" in response.content.decode()
    assert stock(teapot) == 8
    assert 'id="order-status">placed<' in page(staff_browser, f"/dashboard/orders/{order_id}/")


def test_conflicts_are_said_on_the_page(staff_browser, staff_user):
    teapot = product(staff_user)
    fulfilled = order(staff_user, teapot)
    staff_browser.post(f"/dashboard/orders/{fulfilled}/fulfil/")
    response = staff_browser.post(f"/dashboard/orders/{fulfilled}/cancel/", {"reason": "x"})
    html = page(staff_browser, response["Location"])
    assert "The order is fulfilled: it cannot cancel." in html
    assert stock(teapot) == 8

    cancelled = order(staff_user, teapot)
    staff_browser.post(f"/dashboard/orders/{cancelled}/cancel/")
    response = staff_browser.post(f"/dashboard/orders/{cancelled}/fulfil/")
    html = page(staff_browser, response["Location"])
    assert "The order is cancelled: it cannot fulfil." in html


@pytest.mark.parametrize("action", ["fulfil", "cancel"])
def test_actions_need_staff_csrf_and_a_real_order(client, plain_user, staff_user, action):
    order_id = order(staff_user, product(staff_user))
    path = f"/dashboard/orders/{order_id}/{action}/"
    assert client.post(path).status_code == 302  # to the login page
    client.force_login(plain_user)
    assert client.post(path).status_code == 403
    guarded = Client(enforce_csrf_checks=True)
    guarded.force_login(staff_user)
    assert guarded.post(path).status_code == 403  # no CSRF token
    client.force_login(staff_user)
    for bad in (str(ObjectId()), "bad-id"):
        assert client.post(f"/dashboard/orders/{bad}/{action}/").status_code == 404
    html = page(client, f"/dashboard/orders/{order_id}/")
    assert 'id="order-status">placed<' in html


def test_lists_filter_by_status_and_mark_cancelled_orders(staff_browser, staff_user):
    teapot = product(staff_user, stock=100)
    ada_placed = order(staff_user, teapot, customer="Ada")
    ada_gone = order(staff_user, teapot, customer="Ada")
    bob_gone = order(staff_user, teapot, customer="Bob")
    bob_done = order(staff_user, teapot, customer="Bob")
    services.order_cancel(order_id=ada_gone, user_id=staff_user.pk)
    services.order_cancel(order_id=bob_gone, user_id=staff_user.pk)
    services.order_fulfil(order_id=bob_done, user_id=staff_user.pk)

    everything = page(staff_browser, "/dashboard/orders/last-30-days/")
    assert everything.count('class="order-cancelled"') == 2
    assert everything.count("badge badge-failed order-status") == 2
    recent = page(staff_browser, "/dashboard/orders/")
    assert recent.count('class="order-cancelled"') == 2
    assert "/dashboard/orders/last-30-days/?status=placed" in recent

    cancelled = page(staff_browser, "/dashboard/orders/last-30-days/?status=cancelled")
    assert "2 in all" in cancelled and ada_gone in cancelled and bob_gone in cancelled
    assert ada_placed not in cancelled and bob_done not in cancelled
    ada = page(staff_browser, "/dashboard/orders/last-30-days/?customer=Ada&status=cancelled")
    assert "1 in all" in ada and ada_gone in ada
    # The status links keep the customer; the CSV link keeps both filters.
    assert 'href="?customer=Ada&amp;status=placed"' in ada
    assert "status=cancelled" in ada.split('id="orders-csv"')[0].rsplit("href=", 1)[1]
    assert "1 in all" in page(staff_browser, "/dashboard/orders/last-30-days/?status=placed")

    bad = page(staff_browser, "/dashboard/orders/last-30-days/?status=open")
    assert "Status: Select a valid choice." in bad


def test_csv_download_carries_the_status(staff_browser, staff_user):
    teapot = product(staff_user)
    kept = order(staff_user, teapot)
    gone = order(staff_user, teapot)
    services.order_cancel(order_id=gone, user_id=staff_user.pk)
    response = staff_browser.get("/dashboard/orders/last-30-days/?format=csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {(r["order_id"], r["status"]) for r in rows} == {(kept, "placed"), (gone, "cancelled")}
    response = staff_browser.get("/dashboard/orders/last-30-days/?format=csv&status=cancelled")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["order_id"] for r in rows] == [gone]


def test_home_shows_how_many_orders_wait(staff_browser, staff_user):
    teapot = product(staff_user, stock=100)
    ids = [order(staff_user, teapot) for _ in range(4)]
    services.order_fulfil(order_id=ids[0], user_id=staff_user.pk)
    services.order_cancel(order_id=ids[1], user_id=staff_user.pk)
    html = page(staff_browser, "/dashboard/")
    assert 'aria-label="2 orders to fulfil">2</a>' in html
    # The latest orders list marks the cancelled one.
    assert html.count('<tr class="order-cancelled">') == 1
    assert html.count('<span class="badge badge-failed">cancelled</span>') == 1
