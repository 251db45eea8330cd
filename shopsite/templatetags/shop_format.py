"""Numbers for people, in the shop's locale (SHOP_LOCALE) and currency (SHOP_CURRENCY), with Babel:

    {% load shop_format %}
    {{ order.total_cents|currency }}   int: cents        → "€1,234.50"
    {{ "2003355.40"|currency }}        str/Decimal: amount → "€2,003,355.40"
    {{ product.stock|count }}          → "999,999,617"
    {{ order.created_at|shop_datetime }}  → "Dec 7, 2026, 2:43 AM" in the shop's time zone
    {{ day|shop_date }}                → "Dec 7, 2026"

Only for what people read: JSON, CSV, form values and URLs keep plain values.
"""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_currency, format_decimal
from django import template
from django.conf import settings

register = template.Library()


def shop_locale() -> Locale:
    name = settings.SHOP_LOCALE
    return Locale.parse(name, sep="-" if "-" in name else "_")


def shop_zone() -> ZoneInfo:
    # SHOP_TIME_ZONE: the shop's days (api-contract); UTC until it is set.
    return ZoneInfo(getattr(settings, "SHOP_TIME_ZONE", None) or "UTC")


def amount_of(value) -> Decimal | None:
    """An int is cents (how the stores keep money); a str or Decimal is an amount."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value) / 100
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


@register.filter
def currency(value) -> str:
    amount = amount_of(value)
    if amount is None:
        return "" if value is None else str(value)
    return format_currency(amount, settings.SHOP_CURRENCY, locale=shop_locale())


@register.filter
def count(value) -> str:
    if value is None or value == "" or isinstance(value, bool):
        return "" if value is None else str(value)
    try:
        return format_decimal(value, locale=shop_locale())
    except (TypeError, ValueError, InvalidOperation):
        return str(value)


def _local(value: datetime) -> datetime:
    return value.astimezone(shop_zone()) if value.tzinfo else value


@register.filter
def shop_datetime(value, style: str = "medium") -> str:
    """style: short (no seconds), medium (with seconds) or time (the time of day only)."""
    if not isinstance(value, datetime):
        return "" if value is None else str(value)
    local = _local(value)
    if style == "time":
        return format_time(local, "medium", locale=shop_locale())
    return format_datetime(local, "short" if style == "short" else "medium", locale=shop_locale())


@register.filter
def shop_date(value) -> str:
    if isinstance(value, datetime):
        value = _local(value).date()
    if not isinstance(value, date):
        return "" if value is None else str(value)
    return format_date(value, "medium", locale=shop_locale())


@register.filter
def iso_local(value) -> str:
    """The machine-readable time for <time datetime="…">, in the shop's zone."""
    if not isinstance(value, datetime):
        return ""
    return _local(value).isoformat(timespec="seconds")


@register.simple_tag
def shop_format_options() -> dict:
    """What scripts need to format like the page does (Intl.NumberFormat)."""
    return {"locale": settings.SHOP_LOCALE.replace("_", "-"), "currency": settings.SHOP_CURRENCY}
