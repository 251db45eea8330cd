"""Dashboard page "Event log": browse, page, edit metadata, purge with confirmation."""

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_browser(client, admin_user, redis_client):
    client.force_login(admin_user)
    return client


def test_login_and_staff_required(client, plain_user, redis_client, log_manager):
    response = client.get("/dashboard/events/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(plain_user)
    assert client.get("/dashboard/events/").status_code == 403


def test_page_lists_known_types_and_purge_only_for_admins(staff_browser, log_manager):
    log_manager.insert(event_type="order_created", user_id="1")
    page = staff_browser.get("/dashboard/events/").content.decode()
    assert "order_created" in page and "Purge old entries" not in page


def test_browse_newest_first_with_paging(staff_browser, log_manager):
    now = datetime.now(UTC)
    for i in range(120):
        log_manager.insert(
            event_type="stock_changed",
            user_id="u",
            metadata=f"m{i:03d}",
            timestamp=now - timedelta(minutes=i * 10),
        )
    response = staff_browser.get("/dashboard/events/?event_type=stock_changed&hours=168")
    assert response.status_code == 200
    seen = []
    while True:
        html = response.content.decode()
        seen.extend(re.findall(r"<code>(m\d{3})</code>", html))
        older = re.search(r'<a href="([^"]+)" rel="next">Older</a>', html)
        if not older:
            break
        response = staff_browser.get("/dashboard/events/" + older.group(1).replace("&amp;", "&"))
        assert response.status_code == 200
    assert seen == [f"m{i:03d}" for i in range(120)]


def test_period_limits_entries(staff_browser, log_manager):
    now = datetime.now(UTC)
    log_manager.insert(event_type="t", user_id="u", metadata="recent", timestamp=now)
    log_manager.insert(
        event_type="t", user_id="u", metadata="old", timestamp=now - timedelta(hours=3)
    )
    html = staff_browser.get("/dashboard/events/?event_type=t&hours=1").content.decode()
    assert "recent" in html and "<code>old</code>" not in html


@pytest.mark.parametrize(
    "query", ["event_type=bad%20type&hours=24", "event_type=t&hours=5", "event_type=t&before=zz"]
)
def test_bad_filters_are_400(staff_browser, log_manager, query):
    assert staff_browser.get(f"/dashboard/events/?{query}").status_code == 400


def test_edit_metadata(staff_browser, log_manager):
    entry = log_manager.insert(event_type="t", user_id="u", metadata="before")
    url = f"/dashboard/events/{entry.event_id}/edit/"
    page = staff_browser.get(url)
    assert page.status_code == 200 and "before" in page.content.decode()
    back = "/dashboard/events/?event_type=t&hours=24"
    response = staff_browser.post(url, {"metadata": "after", "next": back})
    assert response.status_code == 302 and response["Location"] == back
    assert log_manager.get(entry.event_id).metadata == "after"
    response = staff_browser.post(url, {"metadata": "x" * 10_001})
    assert response.status_code == 400
    assert log_manager.get(entry.event_id).metadata == "after"
    # An off-site "next" is ignored.
    response = staff_browser.post(url, {"metadata": "z", "next": "https://evil.example/"})
    assert response["Location"].startswith("/dashboard/events/")


def test_edit_unknown_entry_is_404(staff_browser, log_manager):
    assert staff_browser.get(f"/dashboard/events/{uuid.uuid4()}/edit/").status_code == 404
    assert staff_browser.get("/dashboard/events/nope/edit/").status_code == 404


def test_purge_confirmation_then_delete(admin_browser, log_manager, outbox):
    now = datetime.now(UTC)
    for days in (1, 8, 9, 30):
        log_manager.insert(event_type="t", user_id="u", timestamp=now - timedelta(days=days))
    assert "Purge old entries" in admin_browser.get("/dashboard/events/").content.decode()
    page = admin_browser.get("/dashboard/events/purge/?days=7")
    assert page.status_code == 200
    assert "deletes <strong>3</strong> log entries older than 7 days" in page.content.decode()
    assert len(log_manager.recent("t", hours=8760, limit=10)) == 4  # nothing deleted yet
    response = admin_browser.post("/dashboard/events/purge/", {"days": "7"}, follow=True)
    assert "Deleted 3 log entries older than 7 days." in response.content.decode()
    assert len(log_manager.recent("t", hours=8760, limit=10)) == 1


def test_purge_is_admin_only_and_validates(staff_browser, admin_user, client, log_manager):
    assert staff_browser.get("/dashboard/events/purge/?days=7").status_code == 403
    assert staff_browser.post("/dashboard/events/purge/", {"days": "7"}).status_code == 403
    client.force_login(admin_user)
    assert client.get("/dashboard/events/purge/?days=0").status_code == 400
    assert client.post("/dashboard/events/purge/", {"days": "x"}).status_code == 400
