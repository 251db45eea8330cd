"""The one way the application records its own events (filled in fully by the event-log issue)."""

import json
import logging
import uuid

from django.conf import settings

from shopsite.redis_client import get_redis
from shopsite.timeutil import iso, utcnow

logger = logging.getLogger(__name__)


def event_record(*, event_type: str, user_id: str | int | None, metadata: dict | str | None = None):
    """Queue an event for the Cassandra log; never raises, never waits on Cassandra."""
    event = {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "user_id": "" if user_id is None else str(user_id),
        "timestamp": iso(utcnow()),
        "metadata": metadata if isinstance(metadata, str | type(None)) else json.dumps(metadata),
    }
    try:
        get_redis().xadd(settings.EVENT_OUTBOX_STREAM, {"event": json.dumps(event)})
    except Exception:
        logger.warning("event outbox unavailable; %s event not queued", event_type)
    return event["event_id"]
