"""HTTP JSON edge of the catalog: input validation (everything the contract names) and output.
Strict fields (no type coercion) come from shopsite.api."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from shopsite.api import StrictBooleanField, StrictCharField, StrictIntegerField, UtcDateTimeField
from shopsite.money import MoneyField, MoneyInputField, cents_to_str
from shopsite.query import QuerySerializer
from shopsite.timeutil import iso

from .services import MAX_STOCK

MAX_BULK_PRODUCTS = 5000


class ProductInputSerializer(serializers.Serializer):
    name = StrictCharField(min_length=1, max_length=200)
    category = StrictCharField(min_length=1, max_length=100)
    price = MoneyInputField(source="price_cents")
    stock = StrictIntegerField(min_value=0, max_value=MAX_STOCK)
    available = StrictBooleanField(required=False, default=True)
    description = StrictCharField(
        required=False, default="", allow_blank=True, max_length=5000, trim_whitespace=False
    )


class ProductBulkInputSerializer(serializers.ListSerializer):
    child = ProductInputSerializer()

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_empty", False)
        kwargs.setdefault("max_length", MAX_BULK_PRODUCTS)
        super().__init__(*args, **kwargs)


class ProductOutputSerializer(serializers.Serializer):
    id = serializers.CharField(source="_id")
    name = serializers.CharField()
    category = serializers.CharField()
    price = MoneyField(source="price_cents")
    stock = serializers.IntegerField()
    available = serializers.BooleanField()
    description = serializers.CharField()
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()


def product_out(doc: dict) -> dict:
    """What ProductOutputSerializer renders, built directly: DRF's per-field machinery (attribute
    lookup, field copies, ordered dicts) was most of the web CPU of a page of products. The
    serializer stays the documented schema; catalog/tests/test_product_output.py holds the two
    equal."""
    return {
        "id": str(doc["_id"]),
        "name": _text(doc["name"]),
        "category": _text(doc["category"]),
        "price": None if doc["price_cents"] is None else cents_to_str(doc["price_cents"]),
        "stock": None if doc["stock"] is None else int(doc["stock"]),
        "available": None if doc["available"] is None else bool(doc["available"]),
        "description": _text(doc["description"]),
        "created_at": iso(doc["created_at"]),
        "updated_at": iso(doc["updated_at"]),
    }


def _text(value) -> str | None:
    return None if value is None else str(value)


class ProductListQuerySerializer(QuerySerializer):
    category = serializers.CharField(
        required=False,
        trim_whitespace=False,
        max_length=100,
        help_text="Exact category (uses its index).",
    )
    available = serializers.ChoiceField(choices=["true", "false"], required=False)
    q = serializers.CharField(
        required=False,
        trim_whitespace=False,
        max_length=200,
        help_text="Case-insensitive substring of the name.",
    )

    def validate(self, attrs):
        return {
            "category": attrs.get("category") or None,
            "available": None if "available" not in attrs else attrs["available"] == "true",
            "q": attrs.get("q") or None,
        }


@extend_schema_field(
    {"type": "integer", "minimum": -MAX_STOCK, "maximum": MAX_STOCK, "not": {"enum": [0]}}
)
class StockDeltaField(StrictIntegerField):
    """A stock change: never zero (the schema says so too)."""


class StockInputSerializer(serializers.Serializer):
    delta = StockDeltaField(min_value=-MAX_STOCK, max_value=MAX_STOCK)

    def validate_delta(self, value):
        if value == 0:
            raise serializers.ValidationError("Must not be zero.")
        return value


class DeletedCountSerializer(serializers.Serializer):
    deleted = serializers.IntegerField()
