"""Reads about the event pipeline for the operator's view (home page, /healthz)."""

import json

from shopsite.timeutil import parse_iso, utcnow

from . import outbox_repository as outbox
from .entry import LogEntry
from .manager import get_log_manager
from .services import log_recent


def outbox_status() -> dict:
    """Events waiting in the Redis outbox, the age of the oldest, and when a worker last ran:
    {"pending", "oldest_age_seconds", "worker_last_seen", "worker_age_seconds"} (None where
    there is nothing to tell). Raises a redis error when Redis is down."""
    now = utcnow()
    pending = outbox.length()
    oldest = outbox.oldest_id()
    oldest_age = None
    if oldest:
        # A stream entry id starts with the milliseconds at which it was added.
        added_ms = int(oldest.split("-")[0])
        oldest_age = max(0.0, round(now.timestamp() - added_ms / 1000, 1))
    seen, seen_age = None, None
    raw = outbox.heartbeat_get()
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
