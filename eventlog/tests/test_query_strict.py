"""Issue 13: one strict style for query parameters (shopsite/query.py), on a destructive call."""

from datetime import UTC, datetime, timedelta

import pytest


def _old_entry(log_manager):
    now = datetime.now(UTC)
    log_manager.insert(event_type="t", user_id="u", timestamp=now - timedelta(days=30))


@pytest.mark.parametrize(
    "query", ["?days=", "?days=7.0", "?days=%207", "?days=+7", "?days=7_0", "?days=7&days=8"]
)
def test_purge_refuses_an_empty_or_loose_days_and_deletes_nothing(admin_client, log_manager, query):
    _old_entry(log_manager)
    response = admin_client.delete("/logs/old/" + query)
    assert response.status_code == 400
    body = response.json()
    assert "days" in body["errors"] and "days" in body["detail"]
    assert log_manager.count_older_than(datetime.now(UTC) - timedelta(days=1)) == 1


def test_purge_without_days_still_uses_the_default(admin_client, log_manager):
    _old_entry(log_manager)
    assert admin_client.delete("/logs/old/").json() == {"deleted": 1}


@pytest.mark.parametrize(
    "path, name",
    [
        ("/logs/?event_type=t&hours=", "hours"),
        ("/logs/?event_type=", "event_type"),
        ("/orders/?days=", "days"),
        ("/orders/?customer=", "customer"),
        ("/orders/recent/?limit=", "limit"),
        ("/products/?page=", "page"),
        ("/products/?page_size=10.0", "page_size"),
        ("/products/?available=", "available"),
        ("/products/?format=", "format"),
        ("/stats/sold/?start=", "start"),
        ("/stats/sold/?format=csv&format=json", "format"),
    ],
)
def test_every_list_names_its_empty_or_loose_parameter(
    admin_client, log_manager, mongo, path, name
):
    response = admin_client.get(path)
    assert response.status_code == 400, response.content
    assert name in response.json()["errors"]
