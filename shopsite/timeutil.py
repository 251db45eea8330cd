"""UTC timestamps: aware UTC datetimes at millisecond precision (as BSON keeps them),
shown as ISO 8601 with a Z."""

from datetime import UTC, date, datetime, time
from functools import cache
from zoneinfo import ZoneInfo

from django.conf import settings


def utcnow() -> datetime:
    return truncate_ms(datetime.now(UTC))


def truncate_ms(dt: datetime) -> datetime:
    return dt.replace(microsecond=dt.microsecond - dt.microsecond % 1000)


def as_utc(dt: datetime) -> datetime:
    """Aware UTC datetime; naive values (as some drivers return) are taken as UTC."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    dt = truncate_ms(as_utc(dt))
    timespec = "milliseconds" if dt.microsecond else "seconds"
    return dt.replace(tzinfo=None).isoformat(timespec=timespec) + "Z"


def parse_iso(value: str) -> datetime:
    """Parse ISO 8601 (a date alone means midnight UTC; no offset means UTC). ValueError if bad."""
    value = value.strip()
    if len(value) == 10:
        return datetime.combine(date.fromisoformat(value), time(0), tzinfo=UTC)
    return truncate_ms(as_utc(datetime.fromisoformat(value)))


def day_key(dt: datetime) -> str:
    """The UTC day, "YYYY-MM-DD" (the year zero-padded: strftime's %Y is not before year 1000
    here, and keys are compared as strings)."""
    return as_utc(dt).date().isoformat()


def hour_key(dt: datetime) -> str:
    """The UTC hour, "YYYY-MM-DDTHH": its first 10 characters are the day_key."""
    utc = as_utc(dt)
    return f"{utc.date().isoformat()}T{utc.hour:02d}"


def minute_key(dt: datetime) -> str:
    """The UTC minute, "YYYY-MM-DDTHH:MM": its first 13 characters are the hour_key."""
    utc = as_utc(dt)
    return f"{hour_key(utc)}:{utc.minute:02d}"


def shop_zone() -> ZoneInfo:
    """The shop's time zone (settings.SHOP_TIME_ZONE, checked at start): its days are the days
    of every figure, chart and "today"."""
    return _zone(settings.SHOP_TIME_ZONE)


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)
