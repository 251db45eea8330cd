"""Numbers and times for people: money and counts in the shop's locale (SHOP_LOCALE) and
currency (SHOP_CURRENCY), with Babel; times in the shop's zone (SHOP_TIME_ZONE) with its
abbreviation, dates in ISO form:

    {% load shop_format %}
    {{ order.total_cents|currency }}   int: cents        → "€1,234.50"
    {{ "2003355.40"|currency }}        str/Decimal: amount → "€2,003,355.40"
    {{ product.stock|count }}          → "999,999,617"
    {{ order.created_at|shop_datetime }}          → "2026-12-07 14:05:09 CET"
    {{ order.created_at|shop_datetime:"short" }}  → "2026-12-07 14:05 CET"
    {{ entry.timestamp|shop_datetime:"time" }}    → "14:05:09 CET"
    {{ day|shop_date }}                → "2026-12-07" (a datetime: its day in the shop's zone)
    {% shop_time_zone %}               → "Europe/Berlin", named next to every day heading

Times may be aware datetimes, naive ones (UTC, as some drivers return) or ISO 8601 strings
(backup manifests). Only for what people read: JSON, CSV, form values and URLs keep plain values.
"""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from babel import Locale
from babel.numbers import format_currency, format_decimal
from django import template
from django.conf import settings

from shopsite.timeutil import as_utc, parse_iso, shop_zone

register = template.Library()


def shop_locale() -> Locale:
    name = settings.SHOP_LOCALE
    return Locale.parse(name, sep="-" if "-" in name else "_")


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


def _local(value) -> datetime | None:
    """The moment in the shop's zone, or None for what is not a time."""
    if isinstance(value, str):
        try:
            value = parse_iso(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    try:
        return as_utc(value).astimezone(shop_zone())
    except OverflowError:  # the first or last hours of datetime's range: shown in UTC
        return as_utc(value)


# A year below 1000 keeps its four digits (strftime's %Y does not pad it everywhere).
_STYLES = {"short": "{day} {t:%H:%M}", "medium": "{day} {t:%H:%M:%S}", "time": "{t:%H:%M:%S}"}


@register.filter
def shop_datetime(value, style: str = "medium") -> str:
    """style: short (no seconds), medium (with seconds) or time (the time of day only); each
    followed by the zone's abbreviation at that moment (CET or CEST, IST, ACDT, +0545)."""
    local = _local(value)
    if local is None:
        return "" if value is None else str(value)
    text = _STYLES.get(style, _STYLES["medium"]).format(day=local.date().isoformat(), t=local)
    return f"{text} {local.tzname()}"


@register.filter
def shop_date(value) -> str:
    """A date as it is; a time as its day in the shop's zone; both ISO (2026-12-07)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    local = _local(value)
    if local is None:
        return "" if value is None else str(value)
    return local.date().isoformat()


@register.simple_tag
def shop_time_zone() -> str:
    """The zone's IANA name, named next to day headings: a day is the shop's day."""
    return settings.SHOP_TIME_ZONE


@register.filter
def iso_local(value) -> str:
    """The machine-readable time for <time datetime="…">, in the shop's zone."""
    local = _local(value)
    return "" if local is None else local.isoformat(timespec="seconds")


@register.simple_tag
def shop_format_options() -> dict:
    """What scripts need to format like the page does (Intl.NumberFormat)."""
    return {"locale": settings.SHOP_LOCALE.replace("_", "-"), "currency": settings.SHOP_CURRENCY}
