"""The operator's view: /healthz and the home page report the event outbox (pending, oldest,
worker last seen) and the newest good backup, and the home page warns when one is too old."""

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client

from backups.tests.test_selectors import _record
from eventlog.outbox_repository import heartbeat_key as worker_heartbeat_key
from eventlog.selectors import outbox_status
from eventlog.services import event_record
from eventlog.worker import OutboxWorker
from shopsite.timeutil import iso, utcnow


@pytest.fixture
def ops(settings, tmp_path, mongo, redis_client, cassandra_keyspace):
    settings.BACKUP_DIR = tmp_path / "backups"
    settings.BACKUP_DIR.mkdir()
    return redis_client


def heartbeat(redis_client, seconds_ago: float) -> None:
    at = iso(utcnow() - timedelta(seconds=seconds_ago))
    redis_client.set(worker_heartbeat_key(), json.dumps({"at": at, "consumer": "w1"}))


def old_event(redis_client, seconds_ago: int) -> None:
    ms = int((utcnow() - timedelta(seconds=seconds_ago)).timestamp() * 1000)
    redis_client.xadd(settings.EVENT_OUTBOX_STREAM, {"event": "{}"}, id=f"{ms}-0")


def home(staff_user) -> str:
    client = Client()
    client.force_login(staff_user)
    response = client.get("/dashboard/")
    assert response.status_code == 200
    return response.content.decode()


def test_all_well_no_warnings(client, ops, staff_user):
    heartbeat(ops, 5)
    _record(utcnow() - timedelta(minutes=10), "ok", archive=True)
    report = client.get("/healthz").json()
    assert report["status"] == "ok"
    assert report["warnings"] == []
    assert report["outbox"]["pending"] == 0 and report["outbox"]["oldest_age_seconds"] is None
    assert 0 <= report["outbox"]["worker_age_seconds"] < 60
    assert 590 <= report["backup"]["age_seconds"] <= 700
    assert 'id="operator-warnings"' not in home(staff_user)


def test_stuck_outbox_silent_worker_and_old_backup_are_warned(client, ops, staff_user):
    old_event(ops, 6 * 60)
    heartbeat(ops, 3 * 60)
    _record(utcnow() - timedelta(hours=3), "ok", archive=True)
    response = client.get("/healthz")
    assert response.status_code == 200  # warnings do not change the backends' status
    report = response.json()
    assert report["outbox"]["pending"] == 1
    assert 355 <= report["outbox"]["oldest_age_seconds"] <= 420
    assert 175 <= report["outbox"]["worker_age_seconds"] <= 240
    assert report["outbox"]["worker_last_seen"].endswith("Z")
    text = " ".join(report["warnings"])
    assert "oldest event in the outbox has waited 6 min" in text
    assert "event worker was last seen 3 min ago" in text
    assert "newest good backup is 3.0 h old" in text
    page = home(staff_user)
    assert 'id="operator-warnings"' in page
    assert "event worker was last seen 3 min ago" in page
    assert 'id="outbox-oldest">6 min<' in page  # (signing in queued one more event)
    assert 'id="worker-seen">3 min ago<' in page and 'id="backup-age">3.0 h ago<' in page


def test_never_seen_worker_and_no_backup(client, ops):
    warnings = client.get("/healthz").json()["warnings"]
    assert any("never been seen" in w for w in warnings)
    assert any("no good backup yet" in w for w in warnings)


def test_the_real_worker_records_its_heartbeat(ops):
    event_record(event_type="ops_probe", user_id=1)
    assert outbox_status()["worker_last_seen"] is None
    worker = OutboxWorker(consumer="ops-test")
    worker.step(block=False)
    status = outbox_status()
    assert status["worker_age_seconds"] is not None and status["worker_age_seconds"] < 30
    assert status["pending"] == 0


def test_thresholds_are_settings(client, ops, settings):
    heartbeat(ops, 30)
    settings.OPS_WORKER_SILENT_SECONDS = 10
    assert any("last seen 30 s ago" in w for w in client.get("/healthz").json()["warnings"])
