"""Reads about the event pipeline for the operator's view (home page, /healthz)."""

import json

from django.conf import settings

from shopsite.redis_client import get_redis
from shopsite.timeutil import parse_iso, utcnow

from .services import worker_heartbeat_key


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
