"""The events page opens on the last hour, every type, newest first, with user names; it narrows
by types (several), user, period and subject; bad input is a 400 naming the field."""

import re
from datetime import UTC, datetime, timedelta

import pytest

pytestmark = pytest.mark.django_db


def _rows(html: str) -> list[tuple[str, str]]:
    """(type, user shown) per row, in page order."""
    return re.findall(
        r'class="event-type">([^<]+)</a></td>\s*<td>(?:<a [^>]*class="event-user"[^>]*>)?([^<]+)',
        html,
    )


@pytest.fixture
def events(log_manager, staff_user, other_staff_user):
    now = datetime.now(UTC)
    made = [
        ("order_created", staff_user.pk, 5, '{"order_id": "abc123"}'),
        ("login_failed", other_staff_user.pk, 10, None),
        ("stock_changed", staff_user.pk, 20, '{"order_ids": ["abc123"], "product_id": "p9"}'),
        ("custom.thing", "api-client-7", 30, None),
        ("order_created", other_staff_user.pk, 90, None),  # older than the last hour
    ]
    for event_type, user, minutes, metadata in made:
        log_manager.insert(
            event_type=event_type,
            user_id=str(user),
            metadata=metadata,
            timestamp=now - timedelta(minutes=minutes),
        )
    return made


def test_opens_on_the_last_hour_every_type_with_user_names(staff_browser, events):
    response = staff_browser.get("/dashboard/events/")
    assert response.status_code == 200
    assert _rows(response.content.decode()) == [
        ("order_created", "staff"),
        ("login_failed", "staff2"),
        ("stock_changed", "staff"),
        ("custom.thing", "api-client-7"),
    ]


def test_several_types_and_a_longer_period(staff_browser, events):
    html = staff_browser.get(
        "/dashboard/events/?type=order_created&type=login_failed&hours=6"
    ).content.decode()
    assert _rows(html) == [
        ("order_created", "staff"),
        ("login_failed", "staff2"),
        ("order_created", "staff2"),
    ]
    # The choices hold the types seen lately, the chosen ones selected.
    assert '<option value="login_failed" selected>' in html
    assert '<option value="custom.thing">' in html


def test_one_user_by_name_or_id(staff_browser, events, other_staff_user):
    by_name = staff_browser.get("/dashboard/events/?user=staff2&hours=6").content.decode()
    assert _rows(by_name) == [("login_failed", "staff2"), ("order_created", "staff2")]
    by_id = staff_browser.get(f"/dashboard/events/?user={other_staff_user.pk}&hours=6")
    assert _rows(by_id.content.decode()) == _rows(by_name)
    # A user's name in a row links to that user's events.
    assert f'href="?user={other_staff_user.pk}&amp;hours=6"' in by_name


def test_an_orders_events(staff_browser, events):
    html = staff_browser.get("/dashboard/events/?about=abc123&hours=24").content.decode()
    assert _rows(html) == [("order_created", "staff"), ("stock_changed", "staff")]
    assert "about <code>abc123</code>" in html


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("type=bad%20type", "type:"),
        ("event_type=bad%20type", "event_type:"),
        ("hours=5", "hours:"),
        ("about=a%20b", "about:"),
        ("before=zz", "before:"),
        ("&".join(f"type=t{i}" for i in range(21)), "type:"),
    ],
)
def test_bad_input_is_400_naming_the_field(staff_browser, log_manager, query, field):
    response = staff_browser.get(f"/dashboard/events/?{query}")
    assert response.status_code == 400
    assert f'role="alert">{field}' in response.content.decode()


def test_home_panel_shows_user_names(staff_browser, events, mongo):
    html = staff_browser.get("/dashboard/").content.decode()
    panel = re.search(r'<table id="latest-events"[^>]*>.*?</table>', html, re.S).group(0)
    assert re.findall(r'<span title="user id [^"]+">([^<]+)</span>', panel)[:3] == [
        "staff",
        "staff2",
        "staff",
    ]
