"""The event log's JSON edge: input validation and the entry's shape (contract: "Event logs")."""

from django.core.validators import RegexValidator
from rest_framework import serializers

from shopsite.api import StrictCharField
from shopsite.query import QuerySerializer

from .services import EVENT_TYPE_RE, METADATA_MAX_CHARS

HOURS_MAX = 8760
LIMIT_DEFAULT, LIMIT_MAX = 1000, 10_000
DAYS_MAX = 36_500  # 100 years: beyond that a cutoff is meaningless (and overflows dates)

event_type_validator = RegexValidator(
    EVENT_TYPE_RE, "1-100 characters: letters, digits, underscore, dot or hyphen."
)


def event_type_field(**kwargs) -> serializers.CharField:
    return StrictCharField(
        max_length=100, validators=[event_type_validator], trim_whitespace=False, **kwargs
    )


def metadata_field(**kwargs) -> serializers.CharField:
    # A string or null: 0 or true is refused, not stored as "0"/"True".
    return StrictCharField(
        max_length=METADATA_MAX_CHARS,
        allow_null=True,
        allow_blank=True,
        trim_whitespace=False,
        **kwargs,
    )


class LogEntrySerializer(serializers.Serializer):
    event_id = serializers.UUIDField()
    user_id = serializers.CharField()
    event_type = serializers.CharField()
    timestamp = serializers.CharField(help_text="ISO 8601, UTC (…Z)")
    metadata = serializers.CharField(allow_null=True)


class LogCreateSerializer(serializers.Serializer):
    user_id = StrictCharField(max_length=200)
    event_type = event_type_field()
    metadata = metadata_field(required=False, default=None)


class LogUpdateSerializer(serializers.Serializer):
    metadata = metadata_field()


class LogQuerySerializer(QuerySerializer):
    event_type = event_type_field(help_text="Required. The type of entries to list.")
    hours = serializers.IntegerField(
        min_value=1, max_value=HOURS_MAX, default=24, help_text=f"Window, 1-{HOURS_MAX} hours."
    )
    limit = serializers.IntegerField(
        min_value=1,
        max_value=LIMIT_MAX,
        default=LIMIT_DEFAULT,
        help_text=f"At most this many entries (1-{LIMIT_MAX}).",
    )


class PurgeQuerySerializer(QuerySerializer):
    days = serializers.IntegerField(
        min_value=1,
        max_value=DAYS_MAX,
        default=7,
        help_text="Delete entries older than this many days (at least 1).",
    )


class PurgeResultSerializer(serializers.Serializer):
    deleted = serializers.IntegerField()
