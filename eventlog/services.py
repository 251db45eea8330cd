"""The event log's business functions. `event_record` is THE way the application records its events.

event_record never raises and never waits on Cassandra: the event goes to a Redis stream (the
outbox), or, if Redis is down or the outbox holds EVENT_OUTBOX_MAX_PENDING events already (the
worker is down or behind), to a local spool file (eventlog/spool.py: fsync'd JSON lines). The worker
(`manage.py eventlog_worker`, eventlog/worker.py) moves both into Cassandra. Nothing is dropped.
"""

import json
import logging
import re
import uuid
from datetime import datetime, timedelta

from shopsite.timeutil import iso, parse_iso, utcnow

from . import outbox_repository as outbox
from .entry import LogEntry
from .exceptions import LogEntryNotFound
from .manager import get_log_manager
from .spool import append as spool_append

logger = logging.getLogger(__name__)

EVENT_TYPE_RE = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
METADATA_MAX_CHARS = 10_000


def event_record(
    *,
    event_type: str,
    user_id: str | int | None,
    metadata: dict | str | None = None,
    event_id: uuid.UUID | None = None,
    timestamp: datetime | None = None,
    batch=None,
):
    """Queue an event for the Cassandra log; never raises, never waits on Cassandra.

    A caller that may record the same event twice (crash recovery) passes a fixed event_id and
    timestamp: the log stores it once. With `batch` (shopsite.redis_client.Batch) the append
    goes with the batch's other commands (one round trip), and to the spool if it is refused
    when the batch is sent. Returns the event's id (a UUID string).
    """
    try:
        event = _event(
            event_type=event_type,
            user_id=user_id,
            metadata=metadata,
            event_id=event_id,
            timestamp=timestamp,
        )
    except Exception:
        logger.exception("event %r not recorded: could not be built", event_type)
        return None
    line = json.dumps(event)
    if batch is not None:
        outbox.append_to(batch, line, lambda exc: _spool(line, event_type, exc))
        return event["event_id"]
    try:
        outbox.append(line)
    except Exception as exc:
        _spool(line, event_type, exc)
    return event["event_id"]


def _spool(line: str, event_type: str, exc: Exception) -> None:
    logger.warning("event outbox refused (%s); spooling %s locally", exc_name(exc), event_type)
    try:
        spool_append(line)
    except Exception:
        # Both the outbox and the disk failed: the log line is the last copy.
        logger.exception("event could not be spooled, lost: %s", line)


def exc_name(exc: Exception) -> str:
    return "outbox at its ceiling" if isinstance(exc, outbox.OutboxFull) else type(exc).__name__


def _event(*, event_type, user_id, metadata, event_id=None, timestamp=None) -> dict:
    if metadata is not None and not isinstance(metadata, str):
        metadata = json.dumps(metadata, default=str, sort_keys=True)
    if metadata is not None and len(metadata) > METADATA_MAX_CHARS:
        metadata = metadata[:METADATA_MAX_CHARS]
    return {
        "event_id": str(event_id or uuid.uuid4()),
        "event_type": str(event_type),
        "user_id": "" if user_id is None else str(user_id),
        "timestamp": iso(timestamp or utcnow()),
        "metadata": metadata,
    }


def entry_from_event(event: dict) -> LogEntry:
    """A queued event as a log entry; ValueError if it is malformed."""
    event_type = event.get("event_type")
    if not isinstance(event_type, str) or not EVENT_TYPE_RE.match(event_type):
        raise ValueError(f"bad event_type {event_type!r}")
    metadata = event.get("metadata")
    if metadata is not None and (
        not isinstance(metadata, str) or len(metadata) > METADATA_MAX_CHARS
    ):
        raise ValueError("bad metadata")
    return LogEntry(
        event_id=uuid.UUID(str(event["event_id"])),
        event_type=event_type,
        user_id=str(event.get("user_id") or ""),
        timestamp=parse_iso(str(event["timestamp"])),
        metadata=metadata,
    )


# --- API-facing operations -----------------------------------------------------------------------
def log_create(*, event_type: str, user_id: str, metadata: str | None) -> LogEntry:
    """Write an entry straight to Cassandra (the API's POST: the caller wants it stored now)."""
    return get_log_manager().insert(event_type=event_type, user_id=user_id, metadata=metadata)


def log_recent(
    *,
    event_type: str,
    hours: int,
    limit: int,
    before: tuple[datetime, uuid.UUID] | None = None,
) -> list[LogEntry]:
    return get_log_manager().recent(event_type, hours=hours, limit=limit, before=before)


def log_get(*, event_id: str) -> LogEntry:
    parsed = parse_event_id(event_id)
    entry = None if parsed is None else get_log_manager().get(parsed)
    if entry is None:
        raise LogEntryNotFound()
    return entry


def log_update_metadata(*, event_id: str, metadata: str | None) -> LogEntry:
    parsed = parse_event_id(event_id)
    entry = None if parsed is None else get_log_manager().update_metadata(parsed, metadata)
    if entry is None:
        raise LogEntryNotFound()
    return entry


def purge_cutoff(days: int) -> datetime:
    return utcnow() - timedelta(days=days)


def log_count_older_than(*, days: int) -> int:
    return get_log_manager().count_older_than(purge_cutoff(days))


def log_delete_older_than(*, days: int, user_id: str | int | None) -> int:
    deleted = get_log_manager().delete_older_than(purge_cutoff(days))
    logger.info("event log purge: %d entries older than %d days deleted", deleted, days)
    event_record(
        event_type="log_purged", user_id=user_id, metadata={"days": days, "deleted": deleted}
    )
    return deleted


def parse_event_id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


# --- Worker heartbeat (the operator's view: "worker last seen") --------------------------------
def worker_heartbeat_record(*, consumer: str) -> None:
    """The outbox worker calls this every loop: the time it was last seen alive, and by which
    name. Never raises (an outage is the worker loop's own business to report)."""
    try:
        value = json.dumps({"at": iso(utcnow()), "consumer": consumer})
        outbox.heartbeat_set(value)
    except Exception as exc:
        logger.debug("worker heartbeat not recorded: %s", type(exc).__name__)
