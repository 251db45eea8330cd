"""Money: decimal strings with two places at the edge, integer cents inside."""

from decimal import Decimal, InvalidOperation

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

MAX_PRICE_CENTS = 1_000_000_000_00
MONEY_INPUT_PATTERN = r"^0*([0-9]{1,9}(\.[0-9]{1,2})?|1000000000(\.00?)?)$"


def cents_to_str(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(int(cents))
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def parse_money(value, *, max_cents: int | None = MAX_PRICE_CENTS) -> int:
    """Integer cents from "19.99", "19.9", "19" or a JSON number; ValueError with a message."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError('Must be a decimal string such as "19.99".')
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError('Must be a decimal string such as "19.99".')
    if not amount.is_finite():
        raise ValueError("Must be a finite amount.")
    if amount < 0:
        raise ValueError("Must not be negative.")
    if amount.as_tuple().exponent < -2:
        raise ValueError("At most two decimal places.")
    cents = int(amount * 100)
    if max_cents is not None and cents > max_cents:
        raise ValueError(f"Must not exceed {cents_to_str(max_cents)}.")
    return cents


@extend_schema_field({"type": "string", "pattern": r"^[0-9]+(\.[0-9]{1,2})?$", "example": "19.99"})
class MoneyField(serializers.Field):
    """DRF field: validates money input into integer cents; renders cents as "0.00"."""

    default_error_messages = {"invalid": "{message}"}

    def __init__(self, *, max_cents: int | None = MAX_PRICE_CENTS, **kwargs):
        self.max_cents = max_cents
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> int:
        try:
            return parse_money(data, max_cents=self.max_cents)
        except ValueError as exc:
            self.fail("invalid", message=str(exc))

    def to_representation(self, value) -> str:
        return cents_to_str(value)


@extend_schema_field(
    {
        "oneOf": [
            # At most MAX_PRICE_CENTS written as a pattern: 9 digits, or exactly 1000000000.
            {"type": "string", "pattern": MONEY_INPUT_PATTERN, "example": "19.99"},
            {
                "type": "number",
                "minimum": 0,
                "maximum": MAX_PRICE_CENTS // 100,
                "multipleOf": 0.01,
                "description": "A JSON number is accepted too (at most two decimal places).",
            },
        ]
    }
)
class MoneyInputField(MoneyField):
    """Money in a request body: a decimal string, or a JSON number (the contract allows both;
    the schema says so). Bounded by MAX_PRICE_CENTS."""
