"""HTTP JSON edge of orders: input validation (everything the contract names) and output."""

from datetime import timedelta

from rest_framework import serializers

from shopsite.api import (
    ObjectIdField,
    StrictCharField,
    StrictDateTimeField,
    StrictIntegerField,
    UtcDateTimeField,
)
from shopsite.money import MoneyField
from shopsite.query import QuerySerializer
from shopsite.timeutil import utcnow

MAX_ITEMS = 100
MAX_BULK_ORDERS = 1000
MAX_QUANTITY = 1_000_000_000
# A client clock a little ahead of ours is not "the future".
CLOCK_SKEW = timedelta(seconds=5)


class OrderItemInputSerializer(serializers.Serializer):
    product_id = ObjectIdField()
    quantity = StrictIntegerField(min_value=1, max_value=MAX_QUANTITY)


class OrderInputSerializer(serializers.Serializer):
    customer = StrictCharField(min_length=1, max_length=200)
    items = OrderItemInputSerializer(many=True, allow_empty=False, max_length=MAX_ITEMS)
    created_at = StrictDateTimeField(
        required=False,
        help_text="For importing a past order: not in the future; no offset means UTC.",
    )

    def validate_created_at(self, value):
        if value > utcnow() + CLOCK_SKEW:
            raise serializers.ValidationError("Must not be in the future.")
        return value


class OrderBulkInputSerializer(serializers.ListSerializer):
    child = OrderInputSerializer()

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_empty", False)
        kwargs.setdefault("max_length", MAX_BULK_ORDERS)
        super().__init__(*args, **kwargs)


class OrderItemOutputSerializer(serializers.Serializer):
    product_id = serializers.CharField()
    name = serializers.CharField()
    unit_price = MoneyField(source="unit_price_cents")
    quantity = serializers.IntegerField()
    line_total = MoneyField(source="line_total_cents", max_cents=None)


STATUSES = ("placed", "fulfilled", "cancelled")
MAX_REASON = 500


class OrderOutputSerializer(serializers.Serializer):
    id = serializers.CharField(source="_id")
    customer = serializers.CharField()
    items = OrderItemOutputSerializer(many=True)
    total = MoneyField(source="total_cents", max_cents=None)
    created_at = UtcDateTimeField()
    status = serializers.ChoiceField(choices=STATUSES, default="placed")
    fulfilled_at = UtcDateTimeField(allow_null=True, default=None)
    cancelled_at = UtcDateTimeField(allow_null=True, default=None)
    cancel_reason = serializers.CharField(allow_null=True, default=None)

    def to_representation(self, instance):
        # Orders stored before they had a status are placed, with no status times.
        body = super().to_representation(
            {"status": "placed", "fulfilled_at": None, "cancelled_at": None,
             "cancel_reason": None, **instance}
        )  # fmt: skip
        return body


class OrderCancelInputSerializer(serializers.Serializer):
    reason = StrictCharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=MAX_REASON,
        help_text=f"Why (optional, at most {MAX_REASON} characters).",
    )


class RecentQuerySerializer(QuerySerializer):
    limit = serializers.IntegerField(
        min_value=1, max_value=100, default=100, help_text="1-100, default 100."
    )


class OrderListQuerySerializer(QuerySerializer):
    days = serializers.IntegerField(
        min_value=1, max_value=3650, default=30, help_text="1-3650, default 30."
    )
    customer = serializers.CharField(
        required=False, trim_whitespace=False, max_length=200, help_text="Exact customer name."
    )
    status = serializers.ChoiceField(
        choices=STATUSES, required=False, help_text="Only orders with this status."
    )

    def validate(self, attrs):
        return {
            "days": attrs["days"],
            "customer": attrs.get("customer") or None,
            "status": attrs.get("status"),
        }
