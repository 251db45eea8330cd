"""`make fuzz` excuses exactly the refusals the API contract requires (tests/fuzz_contract.py),
so a schema-valid request refused for any other reason still fails the run."""

import json
from types import SimpleNamespace

import pytest

from tests.fuzz_contract import contract_refusal


def case(method, path, query=None):
    return SimpleNamespace(method=method, path=path, query=query)


def answer(body):
    return SimpleNamespace(json=lambda: json.loads(json.dumps(body)))


def errors(value):
    return answer({"detail": "Invalid input.", "errors": value})


UNKNOWN = {"items": [{}, {"product_id": ["Unknown product."]}]}
UNAVAILABLE = {"items": [{"product_id": ["Product is not available."]}]}


@pytest.mark.parametrize(
    "body", [UNKNOWN, UNAVAILABLE, [{}, UNKNOWN, UNAVAILABLE]], ids=["one", "unavailable", "bulk"]
)
def test_an_order_naming_missing_or_unavailable_products_is_excused(body):
    assert contract_refusal(case("POST", "/orders/"), errors(body))


@pytest.mark.parametrize(
    "body",
    [
        {"customer": ["This field may not be blank."]},
        {"items": [{"product_id": ["Must be a 24-character hexadecimal id."]}]},
        {"items": [{"product_id": ["Unknown product."], "quantity": ["Too big."]}]},
        {**UNKNOWN, "customer": ["x"]},
        [UNKNOWN, {"customer": ["x"]}],
        {"items": []},
        [{}],
        {"items": "Unknown product."},
    ],
)
def test_any_other_order_refusal_is_not(body):
    assert not contract_refusal(case("POST", "/orders/"), errors(body))


def test_only_on_the_order_operation():
    assert not contract_refusal(case("POST", "/products/"), errors(UNKNOWN))
    assert not contract_refusal(case("POST", "/orders/"), answer({"detail": "x"}))
    assert not contract_refusal(case("POST", "/orders/"), answer(["not", "an", "object"]))


START_AFTER_END = {"start": ["Must not be after end."]}


@pytest.mark.parametrize(
    "query",
    [
        {"start": "2026-05-02", "end": "2026-05-01"},
        {"start": "2026-05-01T00:00:00.001Z", "end": "2026-05-01T00:00:00Z"},
        {"start": "9999-01-01T00:00:00Z"},  # after now, the default end
    ],
)
def test_a_stats_window_starting_after_its_end_is_excused(query):
    assert contract_refusal(case("GET", "/stats/sold/", query), errors(START_AFTER_END))


@pytest.mark.parametrize(
    ("query", "body"),
    [
        ({"start": "2026-05-01", "end": "2026-05-02"}, START_AFTER_END),  # not after: a real bug
        ({"end": "2026-05-01"}, START_AFTER_END),  # no start given
        ({"start": "2026-05-02", "end": "2026-05-01"}, {"start": ["Enter a valid date."]}),
        ({"start": "2026-05-02", "end": "2026-05-01"}, {**START_AFTER_END, "by": ["x"]}),
        ({"end": "0001-01-02"}, {"end": ["Too early for the default 30-day window."]}),
    ],
)
def test_any_other_stats_refusal_is_not(query, body):
    assert not contract_refusal(case("GET", "/stats/sold/", query), errors(body))
