"""Reads of the event log for pages (the events page, the home panel) and about the event
pipeline for the operator's view (home page, /healthz)."""

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.cache import cache

from shopsite.timeutil import parse_iso, utcnow

from . import outbox_repository as outbox
from .entry import LogEntry
from .manager import get_log_manager

logger = logging.getLogger(__name__)

# A filtered page (user, subject) reads at most this many entries, then offers to go on from
# where it stopped: a filter no table serves never turns one request into a scan of the log.
SCAN_MAX = 5000
USER_NAME_TTL_SECONDS = 300


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
    """The newest `limit` entries of any type in the last `hours` (the home page's panel).

    Read from events_by_hour, newest hour first: one partition query when the current hour
    holds `limit` entries, at most hours + 1 when the window is sparse; never one per type."""
    since = utcnow() - timedelta(hours=hours)
    stream = get_log_manager().stream(since=since, page_rows=limit)
    return [entry for entry, _ in zip(stream, range(limit), strict=False)]


@dataclass(frozen=True)
class EventPage:
    entries: list[LogEntry]
    # Where the next page starts (the last entry read), None at the end of the period.
    cursor: tuple[datetime, uuid.UUID] | None
    # The scan stopped at SCAN_MAX entries before the page was full.
    truncated: bool


def events_browse(
    *,
    hours: int,
    limit: int,
    types: list[str] | None = None,
    user_id: str | None = None,
    about: str | None = None,
    before: tuple[datetime, uuid.UUID] | None = None,
) -> EventPage:
    """A page of entries of the last `hours`, newest first: every type, or the given ones (each
    type's own buckets, merged), optionally only one user's or only those whose metadata names
    `about` (an order's or a product's id)."""
    since = utcnow() - timedelta(hours=hours)
    filtered = user_id is not None or about is not None
    stream = get_log_manager().stream(
        since=since, types=types or None, before=before, page_rows=500 if filtered else limit + 1
    )
    found: list[LogEntry] = []
    for scanned, entry in enumerate(stream, 1):
        if len(found) == limit:  # one more exists: the page is full and not the last
            return EventPage(found, _position(found[-1]), False)
        if (user_id is None or entry.user_id == user_id) and (
            about is None or about in (entry.metadata or "")
        ):
            found.append(entry)
        if filtered and scanned >= SCAN_MAX and len(found) < limit:
            return EventPage(found, _position(entry), True)
    return EventPage(found, None, False)


def _position(entry: LogEntry) -> tuple[datetime, uuid.UUID]:
    return entry.timestamp, entry.event_id


def user_names(user_ids) -> dict[str, str]:
    """Display names of the users behind these event user ids, one query for all of them and
    cached a few minutes; ids that are no user of this site (an API client may post any) are
    left out."""
    wanted = {str(u) for u in user_ids if str(u).isdigit()}
    if not wanted:
        return {}
    keys = {f"eventlog:user-name:{u}": u for u in wanted}
    try:
        cached = cache.get_many(list(keys))
    except Exception as exc:  # the cache (Redis) down: names come from the database
        logger.warning("user names not cached: %s", type(exc).__name__)
        cached = {}
    names = {keys[k]: v for k, v in cached.items()}
    missing = wanted - names.keys()
    if missing:
        users = get_user_model().objects.filter(pk__in=[int(u) for u in missing])
        fresh = {str(user.pk): user.get_username() for user in users}
        names.update(fresh)
        try:
            cache.set_many(
                {f"eventlog:user-name:{u}": n for u, n in fresh.items()}, USER_NAME_TTL_SECONDS
            )
        except Exception as exc:
            logger.warning("user names not cached: %s", type(exc).__name__)
    return {u: n for u, n in names.items() if n}


def event_types_known(*, days: int = 366) -> list[str]:
    """Every event type with entries in the last `days` days (the events page's choices)."""
    return get_log_manager().event_types(days=days)
