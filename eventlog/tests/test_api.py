"""The /logs/ API: every endpoint and status (contract: "Event logs")."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


def post(client, **body):
    return client.post("/logs/", body, format="json")


def test_post_creates_entry_stored_in_cassandra(staff_client, log_manager):
    response = post(staff_client, user_id="42", event_type="order_created", metadata='{"a": 1}')
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"event_id", "user_id", "event_type", "timestamp", "metadata"}
    assert body["user_id"] == "42" and body["metadata"] == '{"a": 1}'
    assert body["timestamp"].endswith("Z")
    stored = log_manager.get(uuid.UUID(body["event_id"]))
    assert stored.as_dict() == body


def test_post_without_metadata_and_without_slash(staff_client, log_manager):
    response = staff_client.post(
        "/logs", {"user_id": "7", "event_type": "login_failed"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["metadata"] is None


@pytest.mark.parametrize(
    "body, field",
    [
        ({"event_type": "x"}, "user_id"),
        ({"user_id": "1"}, "event_type"),
        ({"user_id": "1", "event_type": ""}, "event_type"),
        ({"user_id": "1", "event_type": "has space"}, "event_type"),
        ({"user_id": "1", "event_type": "a/b"}, "event_type"),
        ({"user_id": "1", "event_type": "x" * 101}, "event_type"),
        ({"user_id": "1", "event_type": "ok", "metadata": "m" * 10_001}, "metadata"),
        ({"user_id": "1", "event_type": "ok", "metadata": {"a": 1}}, "metadata"),
        ({"user_id": "", "event_type": "ok"}, "user_id"),
    ],
)
def test_post_rejects_bad_input_naming_the_field(staff_client, log_manager, body, field):
    response = staff_client.post("/logs/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert log_manager.event_types() == []  # nothing written


def test_post_accepts_limits(staff_client, log_manager):
    response = post(
        staff_client, user_id="1", event_type="A.b-C_9" + "x" * 93, metadata="m" * 10_000
    )
    assert response.status_code == 201


def test_post_bad_json_is_400(staff_client, log_manager):
    response = staff_client.generic("POST", "/logs/", "{not json", content_type="application/json")
    assert response.status_code == 400


def test_get_lists_type_in_window_newest_first(staff_client, log_manager):
    now = datetime.now(UTC)
    for hours in (1, 23, 25, 0.1):
        log_manager.insert(
            event_type="stock_changed",
            user_id="u",
            metadata=str(hours),
            timestamp=now - timedelta(hours=hours),
        )
    log_manager.insert(event_type="other", user_id="u")
    response = staff_client.get("/logs/?event_type=stock_changed")
    assert response.status_code == 200
    assert [e["metadata"] for e in response.json()] == ["0.1", "1", "23"]
    response = staff_client.get("/logs?event_type=stock_changed&hours=48&limit=2")
    assert [e["metadata"] for e in response.json()] == ["0.1", "1"]
    response = staff_client.get("/logs/?event_type=stock_changed&hours=1")
    assert [e["metadata"] for e in response.json()] == ["0.1"]


def test_get_unknown_type_is_empty_list(staff_client, log_manager):
    response = staff_client.get("/logs/?event_type=never_written&hours=8760")
    assert response.status_code == 200 and response.json() == []


@pytest.mark.parametrize(
    "query, field",
    [
        ("", "event_type"),
        ("?hours=24", "event_type"),
        ("?event_type=", "event_type"),
        ("?event_type=a%20b", "event_type"),
        ("?event_type=x&hours=0", "hours"),
        ("?event_type=x&hours=8761", "hours"),
        ("?event_type=x&hours=abc", "hours"),
        ("?event_type=x&limit=0", "limit"),
        ("?event_type=x&limit=10001", "limit"),
    ],
)
def test_get_rejects_bad_query(staff_client, log_manager, query, field):
    response = staff_client.get("/logs/" + query)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_get_accepts_range_limits(staff_client, log_manager):
    for query in ("hours=1&limit=1", "hours=8760&limit=10000"):
        assert staff_client.get(f"/logs/?event_type=x&{query}").status_code == 200


def test_put_replaces_metadata(staff_client, log_manager):
    entry = log_manager.insert(event_type="product_created", user_id="3", metadata="old")
    for path in (f"/logs/{entry.event_id}/", f"/logs/{entry.event_id}"):
        response = staff_client.put(path, {"metadata": f"new {path}"}, format="json")
        assert response.status_code == 200
        assert response.json() == {**entry.as_dict(), "metadata": f"new {path}"}
    assert log_manager.get(entry.event_id).metadata == f"new /logs/{entry.event_id}"
    listed = staff_client.get("/logs/?event_type=product_created").json()
    assert listed[0]["metadata"] == f"new /logs/{entry.event_id}"


def test_put_null_and_empty_metadata(staff_client, log_manager):
    entry = log_manager.insert(event_type="t", user_id="3", metadata="old")
    assert (
        staff_client.put(f"/logs/{entry.event_id}/", {"metadata": ""}, format="json").json()[
            "metadata"
        ]
        == ""
    )
    response = staff_client.put(f"/logs/{entry.event_id}/", {"metadata": None}, format="json")
    assert response.status_code == 200 and response.json()["metadata"] is None


@pytest.mark.parametrize("event_id", [str(uuid.uuid4()), "not-a-uuid", "123"])
def test_put_unknown_or_malformed_id_is_404(staff_client, log_manager, event_id):
    response = staff_client.put(f"/logs/{event_id}/", {"metadata": "x"}, format="json")
    assert response.status_code == 404
    assert "detail" in response.json()


@pytest.mark.parametrize("body", [{}, {"metadata": "m" * 10_001}, {"metadata": ["x"]}])
def test_put_bad_body_is_400_and_writes_nothing(staff_client, log_manager, body):
    entry = log_manager.insert(event_type="t", user_id="3", metadata="keep")
    response = staff_client.put(f"/logs/{entry.event_id}/", body, format="json")
    assert response.status_code == 400 and "metadata" in response.json()["errors"]
    assert log_manager.get(entry.event_id).metadata == "keep"


def test_get_one_entry(staff_client, log_manager):
    entry = log_manager.insert(event_type="t", user_id="3", metadata="m")
    assert staff_client.get(f"/logs/{entry.event_id}").json() == entry.as_dict()
    assert staff_client.get(f"/logs/{uuid.uuid4()}/").status_code == 404


def test_delete_old_admin_only_and_counts(admin_client, staff_client, log_manager, outbox):
    now = datetime.now(UTC)
    for days in (0.5, 6.9, 7.1, 8, 40):
        log_manager.insert(
            event_type="order_created", user_id="u", timestamp=now - timedelta(days=days)
        )
    assert staff_client.delete("/logs/old/?days=7").status_code == 403
    response = admin_client.delete("/logs/old/?days=7")
    assert response.status_code == 200 and response.json() == {"deleted": 3}
    left = admin_client.get("/logs/?event_type=order_created&hours=8760").json()
    assert len(left) == 2
    assert admin_client.delete("/logs/old?days=7").json() == {"deleted": 0}
    assert admin_client.delete("/logs/old").json() == {"deleted": 0}  # default 7 days
    assert admin_client.delete("/logs/old/?days=1").json() == {"deleted": 1}
    # Each purge is itself recorded (through the outbox).
    queued = [json.loads(f["event"]) for _, f in outbox.xrange(settings.EVENT_OUTBOX_STREAM)]
    assert [e["event_type"] for e in queued] == ["log_purged"] * 4
    assert json.loads(queued[0]["metadata"]) == {"days": 7, "deleted": 3}


def test_delete_old_default_is_seven_days(admin_client, log_manager):
    now = datetime.now(UTC)
    log_manager.insert(event_type="t", user_id="u", timestamp=now - timedelta(days=7, hours=1))
    log_manager.insert(event_type="t", user_id="u", timestamp=now - timedelta(days=6, hours=23))
    assert admin_client.delete("/logs/old/").json() == {"deleted": 1}


@pytest.mark.parametrize("query", ["?days=0", "?days=-1", "?days=x", "?days=36501"])
def test_delete_old_bad_days_is_400(admin_client, log_manager, query):
    response = admin_client.delete("/logs/old/" + query)
    assert response.status_code == 400 and "days" in response.json()["errors"]


def test_logs_old_is_not_taken_for_an_event_id(admin_client, log_manager):
    assert admin_client.put("/logs/old/", {"metadata": "x"}, format="json").status_code == 405
    assert admin_client.delete(f"/logs/{uuid.uuid4()}/").status_code == 405


def test_auth_required(anon_client, plain_user, log_manager):
    assert anon_client.get("/logs/?event_type=x").status_code == 401
    assert anon_client.post("/logs/", {}, format="json").status_code == 401
    assert anon_client.put(f"/logs/{uuid.uuid4()}/", {}, format="json").status_code == 401
    assert anon_client.delete("/logs/old/").status_code == 401
    anon_client.force_authenticate(plain_user)
    assert anon_client.get("/logs/?event_type=x").status_code == 403
    assert anon_client.delete("/logs/old/").status_code == 403


def test_openapi_documents_the_log_endpoints(anon_client):
    schema = json.loads(anon_client.get("/openapi.json?format=json").content)
    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/logs/"])
    assert "put" in paths["/logs/{event_id}/"]
    assert "delete" in paths["/logs/old/"]
    params = {p["name"] for p in paths["/logs/"]["get"]["parameters"]}
    assert {"event_type", "hours", "limit"} <= params
