"""`make fuzz` excuses exactly the refusals the API contract requires (tests/fuzz_contract.py),
so a schema-valid request refused for any other reason still fails the run."""

import json
from types import SimpleNamespace

import pytest

from tests.fuzz_contract import IDEMPOTENCY_REUSED, contract_refusal

ORDER = {"customer": "c", "items": [{"product_id": "0" * 24, "quantity": 1}]}
FUTURE = {**ORDER, "created_at": "9999-01-01T00:00:00Z"}
PAST = {**ORDER, "created_at": "2020-01-01T00:00:00Z"}


def case(method, path, *, query=None, body=None, headers=None):
    return SimpleNamespace(method=method, path=path, query=query, body=body, headers=headers)


def answer(body, status=400):
    return SimpleNamespace(status_code=status, json=lambda: json.loads(json.dumps(body)))


def errors(value):
    return answer({"detail": "Invalid input.", "errors": value})


def order(body, response):
    return contract_refusal(case("POST", "/orders/", body=body), response)


UNKNOWN = {"items": [{"product_id": ["Unknown product."]}]}
UNAVAILABLE = {"items": [{"product_id": ["Product is not available."]}]}
IN_FUTURE = {"created_at": ["Must not be in the future."]}


@pytest.mark.parametrize(
    ("body", "refused"),
    [
        (ORDER, UNKNOWN),
        (ORDER, UNAVAILABLE),
        ([ORDER, ORDER, ORDER], [{}, UNKNOWN, UNAVAILABLE]),
        (FUTURE, IN_FUTURE),
        ([ORDER, FUTURE], [UNKNOWN, IN_FUTURE]),
    ],
    ids=["unknown", "unavailable", "bulk", "future", "bulk-future"],
)
def test_an_order_refused_as_the_contract_says_is_excused(body, refused):
    assert order(body, errors(refused))


@pytest.mark.parametrize(
    ("body", "refused"),
    [
        (ORDER, {"customer": ["This field may not be blank."]}),
        (ORDER, {"items": [{"product_id": ["Must be a 24-character hexadecimal id."]}]}),
        (ORDER, {"items": [{"product_id": ["Unknown product."], "quantity": ["Too big."]}]}),
        (ORDER, {**UNKNOWN, "customer": ["x"]}),
        ([ORDER, ORDER], [UNKNOWN, {"customer": ["x"]}]),
        (ORDER, {"items": []}),
        ([ORDER], [{}]),
        (ORDER, {"items": "Unknown product."}),
        ([ORDER, ORDER], [UNKNOWN]),  # not aligned with the body
        (PAST, IN_FUTURE),  # a past created_at refused as future: a real bug
        (ORDER, IN_FUTURE),
        (FUTURE, {**IN_FUTURE, "customer": ["x"]}),
    ],
)
def test_any_other_order_refusal_is_not(body, refused):
    assert not order(body, errors(refused))


def test_a_reused_idempotency_key_with_another_body_is_excused_only_as_such():
    reused = answer({"detail": IDEMPOTENCY_REUSED}, status=422)
    with_key = case("POST", "/orders/", body=ORDER, headers={"Idempotency-Key": "k"})
    assert contract_refusal(with_key, reused)
    assert not contract_refusal(case("POST", "/orders/", body=ORDER), reused)
    assert not contract_refusal(with_key, answer({"detail": "Other."}, status=422))
    assert not contract_refusal(with_key, answer({"detail": IDEMPOTENCY_REUSED}, status=400))


def test_only_on_the_operations_named():
    assert not contract_refusal(case("POST", "/products/", body=ORDER), errors(UNKNOWN))
    assert not order(ORDER, answer({"detail": "x"}))
    assert not order(ORDER, answer(["not", "an", "object"]))
    assert not order(ORDER, answer(UNKNOWN, status=409))


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
    assert contract_refusal(case("GET", "/stats/sold/", query=query), errors(START_AFTER_END))


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
    assert not contract_refusal(case("GET", "/stats/sold/", query=query), errors(body))
