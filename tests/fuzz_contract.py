"""Refusals of schema-valid requests that the API contract requires: an order naming a missing or
unavailable product is a 400, so is a stats window whose start is after its end. A JSON Schema
cannot say either, so schemathesis' positive_data_acceptance would report them on every run;
`make fuzz` runs it with these two, and nothing else, excused (tests/fuzz_hooks.py).
"""

from datetime import UTC, datetime

ORDER_REFUSALS = {"Unknown product.", "Product is not available."}


def contract_refusal(case, response) -> bool:
    """True if this response is one of the refusals above (the caller checked it is a 400)."""
    try:
        errors = response.json().get("errors")
    except (ValueError, AttributeError):
        return False
    label = f"{case.method.upper()} {case.path}"
    if label == "POST /orders/":
        return _only_unorderable_items(errors)
    if label == "GET /stats/sold/":
        return errors == {"start": ["Must not be after end."]} and _start_after_end(case.query)
    return False


def _only_unorderable_items(errors) -> bool:
    """The body's errors (one order's, or a list aligned with a bulk body) name only items whose
    product is missing or not for sale."""
    orders = errors if isinstance(errors, list) else [errors]
    named = 0
    for order in orders:
        if order == {}:
            continue
        if not isinstance(order, dict) or set(order) != {"items"}:
            return False
        if not isinstance(order["items"], list):
            return False
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
