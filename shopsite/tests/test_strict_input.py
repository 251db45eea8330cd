"""One strict input style for request bodies (issue 13): a JSON value of the wrong type is a 400
naming the field, never coerced; the served schema documents exactly what is accepted."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("metadata", [0, 1.5, True, ["a"]])
def test_log_metadata_must_be_a_string_or_null(staff_client, cassandra_keyspace, metadata):
    from eventlog.manager import get_log_manager

    manager = get_log_manager()
    manager.truncate()
    response = staff_client.post(
        "/logs/", {"user_id": "1", "event_type": "t", "metadata": metadata}, format="json"
    )
    assert response.status_code == 400
    assert "metadata" in response.json()["errors"]
    assert manager.event_types() == []  # nothing written

    entry = manager.insert(event_type="t", user_id="3", metadata="old")
    response = staff_client.put(f"/logs/{entry.event_id}/", {"metadata": metadata}, format="json")
    assert response.status_code == 400
    assert "metadata" in response.json()["errors"]
    assert manager.get(entry.event_id).metadata == "old"


@pytest.mark.parametrize("field", ["user_id", "event_type"])
def test_log_fields_are_not_coerced_from_numbers(staff_client, cassandra_keyspace, field):
    body = {"user_id": "1", "event_type": "t", field: 42}
    response = staff_client.post("/logs/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_login_fields_are_not_coerced(client, redis_client):
    response = client.post(
        "/auth/login/", {"username": 123, "password": 456}, content_type="application/json"
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"username", "password"}


def test_schema_documents_price_as_a_string_or_a_number(client):
    schema = client.get("/openapi.json?format=json").json()
    schemas = schema["components"]["schemas"]
    for name in ("ProductInputRequest", "PatchedProductInputRequest"):
        price = schemas[name]["properties"]["price"]
        types = {option["type"] for option in price["oneOf"]}
        assert types == {"string", "number"}, name
    # Answers stay strings.
    assert schemas["ProductOutput"]["properties"]["price"]["type"] == "string"


def test_schema_documents_log_metadata_as_a_string_or_null(client):
    schemas = client.get("/openapi.json?format=json").json()["components"]["schemas"]
    for name in ("LogCreateRequest", "LogUpdateRequest"):
        metadata = schemas[name]["properties"]["metadata"]
        assert metadata["type"] == "string" and metadata.get("nullable") is True, name


def test_price_as_a_json_number_is_accepted(staff_client, mongo, redis_client):
    body = {"name": "Mug", "category": "kitchen", "price": 7.5, "stock": 1}
    response = staff_client.post("/products/", body, format="json")
    assert response.status_code == 201
    assert response.json()["price"] == "7.50"
