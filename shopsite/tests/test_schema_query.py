"""The served schema says what the strict input style accepts (issue 13)."""

import re

import pytest


@pytest.fixture
def schema(client):
    return client.get("/openapi.json?format=json").json()


def params(schema, path, method="get") -> dict:
    return {p["name"]: p for p in schema["paths"][path][method].get("parameters", [])}


def test_query_parameters_carry_their_bounds_and_no_empty_strings(schema):
    orders = params(schema, "/orders/")
    assert orders["days"]["schema"] == {
        "type": "integer", "minimum": 1, "maximum": 3650, "default": 30
    }  # fmt: skip
    assert orders["customer"]["schema"]["minLength"] == 1
    assert orders["page_size"]["schema"]["maximum"] == 500
    products = params(schema, "/products/")
    assert products["q"]["schema"]["minLength"] == 1
    assert products["format"]["schema"]["enum"] == ["json", "csv"]
    assert params(schema, "/orders/recent/")["limit"]["schema"]["maximum"] == 100
    assert params(schema, "/logs/old/", "delete")["days"]["schema"]["minimum"] == 1
    assert "empty value" in schema["info"]["description"]


def test_a_bulk_body_list_needs_an_element(schema):
    for name in ("ProductCreateRequest", "OrderCreateRequest"):
        [array] = [v for v in schema["components"]["schemas"][name]["oneOf"] if "items" in v]
        assert array["minItems"] == 1


def test_found_by_make_fuzz_are_documented(schema):
    """Seeds 1935058163 and 423335816: a zero delta, a money string past the maximum, and a 409
    body that is an ErrorDetail too (so `oneOf` could never match it)."""
    delta = schema["components"]["schemas"]["StockInputRequest"]["properties"]["delta"]
    assert delta["not"] == {"enum": [0]}
    conflict = schema["paths"]["/orders/"]["post"]["responses"]["409"]["content"]
    assert "anyOf" in conflict["application/json"]["schema"]

    price = schema["components"]["schemas"]["ProductInputRequest"]["properties"]["price"]
    [text] = [v for v in price["oneOf"] if v["type"] == "string"]
    assert re.match(text["pattern"], "1000000000.00")
    assert not re.match(text["pattern"], "1000000000.01")


def test_bulk_bodies_are_required_and_pages_bounded(schema, admin_client, mongo):
    """Seed 686397221: no body at all, and ?page= past a 64-bit skip (it was a 500)."""
    assert schema["paths"]["/products/"]["post"]["requestBody"]["required"] is True
    assert schema["paths"]["/orders/"]["post"]["requestBody"]["required"] is True
    assert params(schema, "/products/")["page"]["schema"]["maximum"] == 1_000_000_000
    response = admin_client.get("/products/?page=13945709607336954910894215458193408")
    assert response.status_code == 400 and "page" in response.json()["errors"]
    assert admin_client.get("/products/?page=1000000000").status_code == 404  # past the end
