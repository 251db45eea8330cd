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


# Found by make fuzz (seed 1149023450): what the schema says of a trimmed string held only
# after trimming, and a product id's shape was not in the schema at all.
WHITESPACE_ONLY = ["   ", "\t\n", "\u00a0\u2003", "\x1c\x1f"]


@pytest.mark.parametrize("blank", WHITESPACE_ONLY)
def test_a_whitespace_only_name_is_refused_and_the_schema_says_so(
    staff_client, mongo, redis_client, blank
):
    import re

    from shopsite.api import NOT_BLANK_PATTERN

    response = staff_client.post(
        "/products/",
        {"name": blank, "category": "c", "price": "1.00", "stock": 1},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["name"]
    schemas = staff_client.get("/openapi.json?format=json").json()["components"]["schemas"]
    for name, field in [
        ("ProductInputRequest", "name"),
        ("ProductInputRequest", "category"),
        ("OrderInputRequest", "customer"),
        ("LogCreateRequest", "user_id"),
    ]:
        pattern = schemas[name]["properties"][field]["pattern"]
        assert pattern == NOT_BLANK_PATTERN, (name, field)
        assert not re.search(pattern, blank) and not re.search(pattern, blank, re.ASCII)
        assert re.search(pattern, f"{blank}x{blank}")


def test_a_string_longer_than_its_limit_is_refused_as_sent(staff_client, mongo, redis_client):
    """Trimmed to 200 characters it would fit, but the schema's maxLength counts what is sent."""
    name = " " + "n" * 200
    response = staff_client.post(
        "/products/", {"name": name, "category": "c", "price": "1.00", "stock": 1}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["name"]
    ok = staff_client.post(
        "/products/",
        {"name": "  Widget  ", "category": "c", "price": "1.00", "stock": 1},
        format="json",
    )
    assert ok.status_code == 201 and ok.json()["name"] == "Widget"  # still trimmed


def test_an_order_item_product_id_is_24_hex_characters_as_the_schema_says(
    staff_client, mongo, redis_client
):
    from catalog.tests.helpers import create_product

    product = create_product(staff_client, stock=10)
    for bad in [" " + product["id"], product["id"] + " ", product["id"][:23], "z" * 24]:
        response = staff_client.post(
            "/orders/",
            {"customer": "Ada", "items": [{"product_id": bad, "quantity": 1}]},
            format="json",
        )
        assert response.status_code == 400, bad
        [item] = response.json()["errors"]["items"]
        assert list(item) == ["product_id"], bad
    # The schema's pattern read as Python reads `$` also allows one trailing newline.
    response = staff_client.post(
        "/orders/",
        {"customer": "Ada", "items": [{"product_id": product["id"].upper() + "\n", "quantity": 1}]},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["items"][0]["product_id"] == product["id"]
    schemas = staff_client.get("/openapi.json?format=json").json()["components"]["schemas"]
    item = schemas["OrderItemInputRequest"]["properties"]["product_id"]
    assert item["pattern"] == "^[0-9a-fA-F]{24}$"
    items = schemas["OrderInputRequest"]["properties"]["items"]
    assert (items["minItems"], items["maxItems"]) == (1, 100)


def test_every_string_input_refuses_nul_in_the_schema_as_the_api_does(
    staff_client, mongo, redis_client
):
    """Found by make fuzz (seed 2103015049): DRF refuses a NUL character in any string field
    (PostgreSQL's jsonb, under FerretDB, could not store one), the schema did not say so."""
    import re

    schema = staff_client.get("/openapi.json?format=json").json()
    inputs = [
        (f"{name}.{field}", node)
        for name, component in schema["components"]["schemas"].items()
        if name.endswith("Request")
        for field, node in component.get("properties", {}).items()
        if node.get("type") == "string" and "format" not in node
    ] + [
        (f"{path} ?{param['name']}", param["schema"])
        for path, operations in schema["paths"].items()
        for operation in operations.values()
        for param in operation.get("parameters", [])
        if param["in"] == "query"
        and param["schema"].get("type") == "string"
        and not {"enum", "format"} & set(param["schema"])
    ]
    assert len(inputs) > 15
    for where, node in inputs:
        assert not re.search(node["pattern"], "a\x00b"), where
    response = staff_client.post(
        "/products/",
        {"name": "a\x00b", "category": "c", "price": "1.00", "stock": 1},
        format="json",
    )
    assert response.status_code == 400 and list(response.json()["errors"]) == ["name"]
    response = staff_client.get("/orders/?customer=a%00b")
    assert response.status_code == 400 and "customer" in response.json()["errors"]


def test_the_idempotency_key_schema_is_what_the_api_accepts(staff_client, mongo, redis_client):
    """Found by make fuzz (seed 2103015049): a key with a space was schema-valid."""
    import re

    schema = staff_client.get("/openapi.json?format=json").json()
    [header] = [p for p in schema["paths"]["/orders/"]["post"]["parameters"] if p["in"] == "header"]
    pattern = header["schema"]["pattern"]
    for key, ok in [
        ("k-1", True),
        ("a b", False),
        ("", False),
        ("k" * 255, True),
        ("k" * 256, False),
        ("é", False),
    ]:
        assert bool(re.search(pattern, key)) is ok, key
        response = staff_client.post(
            "/orders/", {"customer": "c", "items": []}, format="json", HTTP_IDEMPOTENCY_KEY=key
        )
        assert ("Idempotency-Key" in response.json().get("errors", {})) is (not ok), key
