"""The outbox ceiling: with the worker stopped, events past EVENT_OUTBOX_MAX_PENDING go to the
disk spool instead of Redis, /healthz says degraded and why; a worker started afterwards moves
every event into Cassandra exactly once, and the outbox is healthy again."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from django.conf import settings

from eventlog.services import event_record

ROOT = Path(__file__).resolve().parents[2]


def spooled_lines() -> list[dict]:
    directory = Path(settings.EVENT_SPOOL_DIR)
    if not directory.is_dir():
        return []
    return [json.loads(line) for path in directory.iterdir() for line in path.open()]


def test_events_past_the_ceiling_are_spooled_then_stored_once(
    client, outbox, log_manager, settings
):
    settings.EVENT_OUTBOX_MAX_PENDING = 5
    ids = [
        event_record(event_type="ceiling_test", user_id="u", metadata={"n": n}) for n in range(12)
    ]
    assert outbox.xlen(settings.EVENT_OUTBOX_STREAM) == 5
    spooled = spooled_lines()
    assert sorted(e["event_id"] for e in spooled) == sorted(ids[5:])

    health = client.get("/healthz")
    assert health.status_code == 503
    body = health.json()
    assert body["status"] == "degraded"
    assert body["outbox"]["ok"] is False
    assert body["outbox"]["pending"] == 5 and body["outbox"]["spool_files"] >= 1
    assert "ceiling" in body["outbox"]["error"]
    assert all(body[name]["ok"] for name in ("mongodb", "redis", "cassandra"))

    # The worker is started again (a real process, as deployed) and catches up.
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "shopsite.settings_test",
        "EVENT_OUTBOX_MAX_PENDING": "5",
    }
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "eventlog_worker", "--drain", "--timeout", "60"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    stored = log_manager.recent("ceiling_test", hours=1, limit=100)
    assert sorted(str(e.event_id) for e in stored) == sorted(ids)
    for event_id in ids:
        assert log_manager.get(uuid.UUID(event_id)) is not None
    assert spooled_lines() == []
    assert outbox.xlen(settings.EVENT_OUTBOX_STREAM) == 0
    body = client.get("/healthz").json()
    assert body["outbox"]["ok"] is True and body["status"] == "ok"

    # Below the ceiling again: new events go to Redis.
    event_record(event_type="ceiling_test", user_id="u")
    assert outbox.xlen(settings.EVENT_OUTBOX_STREAM) == 1


def test_fixed_ids_are_logged_once(outbox, log_manager, drain_outbox):
    """A caller that records an event twice (the purchase recovery) gets one log entry."""
    from shopsite.timeutil import utcnow

    event_id, when = uuid.uuid4(), utcnow()
    for _ in range(2):
        event_record(event_type="twice", user_id="u", event_id=event_id, timestamp=when)
    drain_outbox()
    assert [e.event_id for e in log_manager.recent("twice", hours=1, limit=10)] == [event_id]
