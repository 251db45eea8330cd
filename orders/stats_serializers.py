"""Input and output serializers of the stats API (no business logic here)."""

from datetime import date, timedelta

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from shopsite.money import MoneyField
from shopsite.query import QuerySerializer
from shopsite.timeutil import iso, parse_iso, utcnow

from .sales import day_start
from .stats import BREAKDOWNS

DEFAULT_WINDOW = timedelta(days=30)


@extend_schema_field(OpenApiTypes.DATETIME)
class TimestampField(serializers.Field):
    """ISO 8601 in → aware UTC datetime: a date alone ("2026-11-27") is the start of that day in
    the shop's time zone; a time without an offset is UTC."""

    default_error_messages = {
        "invalid": "Not a valid ISO 8601 date or timestamp, e.g. 2026-11-27T05:00:00Z."
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        value = data.strip()
        # An unencoded "+00:00" in a query string arrives as " 00:00".
        if " " in value and "T" in value:
            value = value.replace(" ", "+")
        try:
            if len(value) == 10:
                return day_start(date.fromisoformat(value))
            return parse_iso(value)
        except (ValueError, OverflowError):
            self.fail("invalid")

    def to_representation(self, value):
        return iso(value)


class SoldQuerySerializer(QuerySerializer):
    start = TimestampField(required=False, help_text="Inclusive; default: end minus 30 days.")
    end = TimestampField(
        required=False, help_text="Exclusive; default: the moment the figures are read."
    )
    by = serializers.ChoiceField(
        choices=BREAKDOWNS, required=False, help_text="Adds a breakdown (days: the shop's days)."
    )

    def validate(self, attrs):
        end, start = attrs.get("end"), attrs.get("start")  # no end: up to the moment of reading
        if start is None and end is None:
            # 30 days before the end the read takes: the answer's end - start is 30 days.
            return {**attrs, "start": DEFAULT_WINDOW, "end": None}
        try:
            start = start or end - DEFAULT_WINDOW
        except OverflowError:
            raise serializers.ValidationError({"end": ["Too early for the default 30-day window."]})
        if start > (end or utcnow()):
            raise serializers.ValidationError({"start": ["Must not be after end."]})
        return {**attrs, "start": start, "end": end}


class ProductRowSerializer(serializers.Serializer):
    product_id = serializers.CharField()
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    revenue = MoneyField(source="revenue_cents")


class CategoryRowSerializer(serializers.Serializer):
    category = serializers.CharField()
    quantity = serializers.IntegerField()
    revenue = MoneyField(source="revenue_cents")


class DayRowSerializer(serializers.Serializer):
    day = serializers.CharField(help_text="YYYY-MM-DD, a day of the shop (SHOP_TIME_ZONE)")
    orders = serializers.IntegerField()
    quantity = serializers.IntegerField()
    revenue = MoneyField(source="revenue_cents")


class WeekdayRowSerializer(serializers.Serializer):
    weekday = serializers.IntegerField(help_text="ISO weekday: Monday = 1 ... Sunday = 7")
    name = serializers.CharField(help_text="Monday ... Sunday")
    orders = serializers.IntegerField()
    quantity = serializers.IntegerField()
    revenue = MoneyField(source="revenue_cents")


class SoldSerializer(serializers.Serializer):
    start = TimestampField()
    end = TimestampField()
    time_zone = serializers.CharField(help_text="The shop's time zone (SHOP_TIME_ZONE): its days.")
    total_quantity = serializers.IntegerField()
    orders = serializers.IntegerField()
    revenue = MoneyField(source="revenue_cents")


class CustomerStatsSerializer(serializers.Serializer):
    customer = serializers.CharField()
    orders = serializers.IntegerField()
    total_spent = MoneyField(source="total_spent_cents")
    average_order = MoneyField(source="average_order_cents", help_text="Rounded half up.")
    first_order_at = TimestampField()
    last_order_at = TimestampField()


BREAKDOWN_ROW_SERIALIZERS = {
    "product": ProductRowSerializer,
    "category": CategoryRowSerializer,
    "day": DayRowSerializer,
    "weekday": WeekdayRowSerializer,
}
