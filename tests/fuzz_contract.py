"""Refusals of schema-valid requests that the API contract requires, which a JSON Schema cannot
say (they depend on the data or the clock): an order naming a missing or unavailable product is
a 400, so is an order's created_at in the future and a stats window whose start is after its
end; an Idempotency-Key used again with another body is a 422. schemathesis'
positive_data_acceptance would report them on every run; `make fuzz` runs it with these, and
nothing else, excused (tests/fuzz_hooks.py).
"""

from datetime import UTC, datetime

ORDER_REFUSALS = {"Unknown product.", "Product is not available."}
IDEMPOTENCY_REUSED = "This Idempotency-Key was already used with a different request body."


def contract_refusal(case, response) -> bool:
    """True if this response is one of the refusals above."""
    try:
        body = response.json()
    except ValueError:
        return False
    if not isinstance(body, dict):
        return False
    label = f"{case.method.upper()} {case.path}"
    if label == "POST /orders/" and response.status_code == 422:
        sent_key = any(name.lower() == "idempotency-key" for name in case.headers or {})
        return body.get("detail") == IDEMPOTENCY_REUSED and sent_key
    if response.status_code != 400:
        return False
    errors = body.get("errors")
    if label == "POST /orders/":
        return _only_refused_orders(errors, case.body)
    if label == "GET /stats/sold/":
        return errors == {"start": ["Must not be after end."]} and _start_after_end(case.query)
    return False


def _only_refused_orders(errors, sent) -> bool:
    """Each order refused (one, or a list aligned with a bulk body) names only items whose
    product is missing or not for sale, or only a created_at that is in the future."""
    orders = errors if isinstance(errors, list) else [errors]
    sent = sent if isinstance(sent, list) else [sent]
    if len(orders) != len(sent):
        return False
    refused = [(o, s) for o, s in zip(orders, sent, strict=True) if o != {}]
    return bool(refused) and all(
        _only_unorderable_items(order) or _only_future_created_at(order, body)
        for order, body in refused
    )


def _only_future_created_at(errors, sent) -> bool:
    if errors != {"created_at": ["Must not be in the future."]} or not isinstance(sent, dict):
        return False
    try:
        return _timestamp(sent["created_at"]) > datetime.now(UTC)
    except (KeyError, TypeError, ValueError):
        return False


def _only_unorderable_items(order) -> bool:
    """One order's errors name only items whose product is missing or not for sale."""
    if not isinstance(order, dict) or set(order) != {"items"}:
        return False
    if not isinstance(order["items"], list):
        return False
    named = 0
    for item in order["items"]:
        if item == {}:
            continue
        if not isinstance(item, dict) or set(item) != {"product_id"}:
            return False
        messages = item["product_id"]
        if not isinstance(messages, list) or not set(messages) <= ORDER_REFUSALS:
            return False
        named += 1
    return named > 0


def _start_after_end(query) -> bool:
    """The request's own start is after its end (or after now, without an end)."""
    try:
        start = _timestamp(query["start"])
        end = _timestamp(query["end"]) if "end" in (query or {}) else datetime.now(UTC)
    except (KeyError, TypeError, ValueError):
        return False
    return start > end


def _timestamp(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
