"""Reads about the event pipeline for the operator's view (home page, /healthz)."""

import json

from django.conf import settings

from shopsite.redis_client import get_redis
from shopsite.timeutil import parse_iso, utcnow

from .manager import LogEntry, get_log_manager
from .services import log_recent, worker_heartbeat_key


def outbox_status() -> dict:
    """Events waiting in the Redis outbox, the age of the oldest, and when a worker last ran:
    {"pending", "oldest_age_seconds", "worker_last_seen", "worker_age_seconds"} (None where
    there is nothing to tell). Raises a redis error when Redis is down."""
    client = get_redis()
    stream = settings.EVENT_OUTBOX_STREAM
    now = utcnow()
    pending = client.xlen(stream)
    oldest = client.xrange(stream, "-", "+", count=1)
    oldest_age = None
    if oldest:
        # A stream entry id starts with the milliseconds at which it was added.
        added_ms = int(oldest[0][0].split("-")[0])
        oldest_age = max(0.0, round(now.timestamp() - added_ms / 1000, 1))
    seen, seen_age = None, None
    raw = client.get(worker_heartbeat_key())
    if raw:
        try:
            at = parse_iso(json.loads(raw)["at"])
            seen, seen_age = at, max(0.0, round((now - at).total_seconds(), 1))
        except (ValueError, KeyError, TypeError):
            pass
    return {
        "pending": pending,
        "oldest_age_seconds": oldest_age,
        "worker_last_seen": seen,
        "worker_age_seconds": seen_age,
    }


def events_latest(*, hours: int, limit: int) -> list[LogEntry]:
    """The newest `limit` entries of any type in the last `hours` (the home page's panel):
    each type seen in that window gives its newest, then they are merged."""
    entries = []
    days = max(1, -(-hours // 24))
    for event_type in get_log_manager().event_types(days=days):
        entries.extend(log_recent(event_type=event_type, hours=hours, limit=limit))
    entries.sort(key=lambda e: e.timestamp, reverse=True)
    return entries[:limit]


def event_types_known() -> list[str]:
    """Every event type with entries (the events page's choices)."""
    return get_log_manager().event_types()
