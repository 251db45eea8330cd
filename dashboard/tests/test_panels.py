"""The home page's panels say what is missing: an empty panel names what it would list and links
to where to start, a panel whose backend is down names the backend (dashboard/includes/)."""

import re
from datetime import date

import pytest
from django.template.loader import render_to_string

pytestmark = pytest.mark.django_db


def render(rf, staff_user, sales, low_stock, events) -> str:
    request = rf.get("/dashboard/")
    request.user = staff_user
    health = {"status": "ok", "warnings": [], "outbox": {}, "backup": {}}
    context = {
        "sales": sales,
        "low_stock": low_stock,
        "events": events,
        "health": health,
        "backends": {},
        "ops": {},
    }
    return " ".join(render_to_string("dashboard/home.html", context, request=request).split())


def test_empty_panels_name_what_they_would_list(rf, staff_user):
    sales = {"ok": True, "data": {"day": date(2026, 11, 30), "orders": 0, "units": 0,
                                  "revenue": "0.00", "latest": []}}  # fmt: skip
    low_stock = {"ok": True, "data": {"threshold": 5, "count": 0, "products": []}}
    html = render(rf, staff_user, sales, low_stock, {"ok": True, "data": []})
    assert html.count('class="empty-state"') == 3
    for text, href, link in [
        ("No orders yet.", "/dashboard/orders/new/", "Place the first order"),
        ("Every product has more than 5 in stock.", "/dashboard/products/", "See all products"),
        ("No events in the last 24 hours.", "/dashboard/events/", "Open the event log"),
    ]:
        found = f'<div class="empty-state"><p>{text}</p> ?<a href="{href}">{link}</a></div>'
        assert re.search(found, html), text
    assert "panel-down" not in html


def test_a_panel_whose_backend_is_down_names_it(rf, staff_user):
    html = render(
        rf,
        staff_user,
        {"ok": False, "backend": "mongodb"},
        {"ok": False, "backend": "mongodb"},
        {"ok": False, "backend": "cassandra"},
    )
    assert html.count('<p class="panel-down" role="alert">') == 3
    for backend, text in [
        ("mongodb", "Sales figures cannot be read right now."),
        ("mongodb", "Stock levels cannot be read right now."),
        ("cassandra", "The event log cannot be read right now."),
    ]:
        assert f"{backend} unavailable</span> {text}</p>" in html
    assert "empty-state" not in html
