"""event_record → outbox (Redis stream, or spool file when Redis is down) → worker → Cassandra."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from eventlog import services
from eventlog.manager import CassandraLogManager
from eventlog.outbox_repository import GROUP
from eventlog.services import event_record
from eventlog.worker import OutboxWorker

ROOT = Path(__file__).resolve().parents[2]


def stream_len(redis_client) -> int:
    return redis_client.xlen(settings.EVENT_OUTBOX_STREAM)


def entries_of(manager, event_type, hours=1):
    return manager.recent(event_type, hours=hours, limit=10_000)


def test_event_record_queues_and_worker_stores_it(outbox, drain_outbox, log_manager):
    event_id = event_record(event_type="order_created", user_id=5, metadata={"order_id": "abc"})
    assert stream_len(outbox) == 1
    assert log_manager.get(uuid.UUID(event_id)) is None  # not written by the request itself
    stats = drain_outbox()
    assert stats.written == 1
    entry = log_manager.get(uuid.UUID(event_id))
    assert entry.event_type == "order_created" and entry.user_id == "5"
    assert json.loads(entry.metadata) == {"order_id": "abc"}
    assert stream_len(outbox) == 0  # acknowledged and deleted
    assert outbox.xpending(settings.EVENT_OUTBOX_STREAM, GROUP)["pending"] == 0


def test_event_record_without_user_and_with_string_metadata(outbox, drain_outbox, log_manager):
    event_id = event_record(event_type="login_failed", user_id=None, metadata="bob")
    drain_outbox()
    entry = log_manager.get(uuid.UUID(event_id))
    assert entry.user_id == "" and entry.metadata == "bob"


def test_many_events_each_written_once(outbox, drain_outbox, log_manager):
    ids = {
        event_record(event_type="stock_changed", user_id=1, metadata={"i": i}) for i in range(1200)
    }
    drain_outbox(batch_size=500)
    got = entries_of(log_manager, "stock_changed")
    assert sorted(str(e.event_id) for e in got) == sorted(ids)


def test_crashed_workers_entries_are_reclaimed_and_written_once(outbox, drain_outbox, log_manager):
    ids = [event_record(event_type="order_created", user_id=1) for _ in range(20)]
    crashed = OutboxWorker(consumer="crashed", claim_idle_ms=0)
    crashed.outbox.ensure()
    delivered = crashed._read_batch(block=False)
    # It wrote half of them to Cassandra, then died before acknowledging anything.
    from eventlog.services import entry_from_event

    crashed._manager().insert_many(
        [entry_from_event(json.loads(f["event"])) for _, f in delivered[:10]]
    )
    assert outbox.xpending(settings.EVENT_OUTBOX_STREAM, GROUP)["pending"] == 20
    stats = drain_outbox()  # another worker: claims the abandoned entries
    assert stats.written == 20
    got = entries_of(log_manager, "order_created")
    assert sorted(str(e.event_id) for e in got) == sorted(ids)
    assert stream_len(outbox) == 0


def test_abandoned_entries_wait_for_the_idle_time(outbox, log_manager):
    event_record(event_type="order_created", user_id=1)
    crashed = OutboxWorker(consumer="crashed")
    crashed.outbox.ensure()
    assert len(crashed._read_batch(block=False)) == 1
    patient = OutboxWorker(consumer="patient", claim_idle_ms=60_000)
    assert patient._claim_abandoned(patient.claim_idle_ms) == []
    time.sleep(0.05)
    eager = OutboxWorker(consumer="eager", claim_idle_ms=10)
    assert len(eager._claim_abandoned(eager.claim_idle_ms)) == 1


def test_duplicate_delivery_of_one_event_writes_it_once(outbox, drain_outbox, log_manager):
    event_id = event_record(event_type="backup_completed", user_id=1)
    _, fields = outbox.xrange(settings.EVENT_OUTBOX_STREAM)[0]
    outbox.xadd(settings.EVENT_OUTBOX_STREAM, fields)
    outbox.xadd(settings.EVENT_OUTBOX_STREAM, fields)
    drain_outbox()
    got = entries_of(log_manager, "backup_completed")
    assert [str(e.event_id) for e in got] == [event_id]


def test_nothing_is_acknowledged_until_cassandra_accepts(outbox, drain_outbox, log_manager):
    """A worker whose writes fail (here: a keyspace that does not exist) keeps every entry."""
    ids = [event_record(event_type="order_created", user_id=1) for _ in range(5)]
    failing = OutboxWorker(manager=CassandraLogManager(keyspace="no_such_keyspace_x"))
    for _ in range(2):
        with pytest.raises(Exception):  # noqa: B017 - whatever Cassandra says, it is not stored
            failing.step(block=False)
    assert stream_len(outbox) == 5
    assert outbox.xpending(settings.EVENT_OUTBOX_STREAM, GROUP)["pending"] == 5
    drain_outbox()
    got = entries_of(log_manager, "order_created")
    assert sorted(str(e.event_id) for e in got) == sorted(ids)


def test_malformed_entries_go_to_dead_letter_without_blocking(outbox, drain_outbox, log_manager):
    outbox.xadd(settings.EVENT_OUTBOX_STREAM, {"event": "{not json"})
    outbox.xadd(settings.EVENT_OUTBOX_STREAM, {"event": json.dumps({"event_type": "bad type"})})
    good = event_record(event_type="order_created", user_id=1)
    stats = drain_outbox()
    assert stats.dead == 2 and stats.written == 1
    assert log_manager.get(uuid.UUID(good)) is not None
    assert outbox.xlen(settings.EVENT_OUTBOX_STREAM + ":dead") == 2
    assert stream_len(outbox) == 0


def test_worker_recreates_its_group_after_redis_lost_it(outbox, drain_outbox, log_manager):
    worker = OutboxWorker()
    worker.step(block=False)
    outbox.flushdb()
    event_id = event_record(event_type="order_created", user_id=1)
    worker.step(block=False)
    assert log_manager.get(uuid.UUID(event_id)) is not None


def test_running_worker_moves_events_promptly(running_worker, log_manager):
    ids = [event_record(event_type="session_created", user_id=i) for i in range(10)]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if len(entries_of(log_manager, "session_created")) == 10:
            break
        time.sleep(0.1)
    got = entries_of(log_manager, "session_created")
    assert sorted(str(e.event_id) for e in got) == sorted(ids)


def test_management_command_once_and_drain(outbox, log_manager, capsys):
    first = event_record(event_type="product_created", user_id=1)
    call_command("eventlog_worker", "--once")
    assert log_manager.get(uuid.UUID(first)) is not None
    second = event_record(event_type="product_created", user_id=1)
    call_command("eventlog_worker", "--drain", "--timeout", "30")
    assert log_manager.get(uuid.UUID(second)) is not None
    assert "drained" in capsys.readouterr().out


def test_worker_process_stops_gracefully_on_sigterm(outbox, log_manager):
    ids = [event_record(event_type="stock_changed", user_id=1) for _ in range(3)]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "shopsite.settings_test"}
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "eventlog_worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while len(entries_of(log_manager, "stock_changed")) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert sorted(str(e.event_id) for e in entries_of(log_manager, "stock_changed")) == sorted(
            ids
        )
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert b"stopped" in process.stdout.read()


# --- Redis down: the local spool ---------------------------------------------------------------
CLOSED_PORT_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1: a real refused connection


@pytest.fixture
def redis_down(settings, outbox):
    from shopsite import redis_client

    good_url = settings.REDIS_URL
    settings.REDIS_URL = CLOSED_PORT_URL
    redis_client.close()
    yield
    settings.REDIS_URL = good_url
    redis_client.close()


def spool_files():
    directory = Path(settings.EVENT_SPOOL_DIR)
    return sorted(directory.iterdir()) if directory.is_dir() else []


def test_event_record_spools_when_redis_is_down(redis_down, settings, log_manager):
    started = time.monotonic()
    ids = [event_record(event_type="order_created", user_id=i, metadata={"i": i}) for i in range(5)]
    assert time.monotonic() - started < 2.0
    [spool] = spool_files()
    lines = [json.loads(line) for line in spool.read_text().splitlines()]
    assert [line["event_id"] for line in lines] == ids


def test_worker_drains_the_spool_into_cassandra(outbox, drain_outbox, log_manager, settings):
    from shopsite import redis_client

    good_url = settings.REDIS_URL
    settings.REDIS_URL = CLOSED_PORT_URL
    redis_client.close()
    spooled = [event_record(event_type="order_created", user_id=1) for _ in range(3)]
    settings.REDIS_URL = good_url
    redis_client.close()
    queued = event_record(event_type="order_created", user_id=1)
    stats = drain_outbox()
    assert stats.spooled == 3 and stats.written == 4
    got = entries_of(log_manager, "order_created")
    assert sorted(str(e.event_id) for e in got) == sorted([*spooled, queued])
    assert spool_files() == []


def test_spool_keeps_lines_written_after_the_worker_took_the_file(outbox, log_manager):
    services.spool_append(json.dumps(services._event(event_type="a", user_id=1, metadata=None)))
    worker = OutboxWorker()
    [path] = spool_files()
    taken = worker._take(path)
    late = services._event(event_type="a", user_id=1, metadata=None)
    services.spool_append(json.dumps(late))  # goes to a new file, not the taken one
    assert len(taken.read_text().splitlines()) == 1
    worker._drain_file(taken)
    assert worker.drain_spool() == 1
    assert log_manager.get(uuid.UUID(late["event_id"])) is not None
    assert spool_files() == []


def test_spool_skips_a_torn_line(outbox, log_manager):
    good = services._event(event_type="a", user_id=1, metadata=None)
    services.spool_append(json.dumps(good))
    [path] = spool_files()
    with open(path, "a") as handle:
        handle.write('{"event_id": "trunc')  # a writer killed mid-line
    worker = OutboxWorker()
    assert worker.drain_spool() == 1
    assert worker.stats.dead == 1
    assert log_manager.get(uuid.UUID(good["event_id"])) is not None


def test_event_record_never_raises(redis_down, settings, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    settings.EVENT_SPOOL_DIR = blocker / "spool"  # cannot be created: a file is in the way
    assert event_record(event_type="order_created", user_id=1) is not None


def test_stopped_worker_leaves_the_group_and_idle_names_are_forgotten(
    outbox, log_manager, monkeypatch
):
    import threading

    from eventlog import worker as worker_module

    worker = OutboxWorker(block_ms=100)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    event_record(event_type="t", user_id=1)
    deadline = time.monotonic() + 20
    while outbox.xlen(settings.EVENT_OUTBOX_STREAM) and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.stop()
    thread.join(timeout=10)
    names = [c["name"] for c in outbox.xinfo_consumers(settings.EVENT_OUTBOX_STREAM, GROUP)]
    assert worker.consumer not in names

    # A crashed worker's name (nothing pending) is dropped once idle long enough.
    crashed = OutboxWorker(consumer="crashed-long-ago")
    crashed.outbox.ensure()
    crashed._read_batch(block=False)
    monkeypatch.setattr(worker_module, "CONSUMER_FORGET_MS", 0)
    time.sleep(0.01)
    OutboxWorker(consumer="survivor")._claim_abandoned(0)
    names = [c["name"] for c in outbox.xinfo_consumers(settings.EVENT_OUTBOX_STREAM, GROUP)]
    assert "crashed-long-ago" not in names


def test_pending_entry_deleted_from_the_stream_is_just_acknowledged(outbox, drain_outbox):
    event_record(event_type="t", user_id=1)
    crashed = OutboxWorker(consumer="crashed")
    crashed.outbox.ensure()
    [(entry_id, _)] = crashed._read_batch(block=False)
    outbox.xdel(settings.EVENT_OUTBOX_STREAM, entry_id)
    assert crashed.outbox.read_own_pending(crashed.batch_size)[0][0] == entry_id
    crashed._process(crashed.outbox.read_own_pending(crashed.batch_size))
    assert outbox.xpending(settings.EVENT_OUTBOX_STREAM, GROUP)["pending"] == 0
    assert outbox.xlen(settings.EVENT_OUTBOX_STREAM + ":dead") == 0


def test_a_trickle_of_events_is_written_as_one_batch(outbox, log_manager):
    import threading

    worker = OutboxWorker(linger_ms=1500, block_ms=1000)
    worker.step(block=False)  # the group exists before the first event

    def trickle():
        for i in range(10):
            event_record(event_type="order_created", user_id=i)
            time.sleep(0.01)

    producer = threading.Thread(target=trickle)
    producer.start()
    written = worker.step(block=True)
    producer.join()
    assert written == 10
    assert worker.stats.batches == 1  # one Cassandra write round and one XACK for all ten
    assert len(entries_of(log_manager, "order_created")) == 10
    assert stream_len(outbox) == 0


def test_a_failed_round_is_retried_by_the_same_worker(outbox, log_manager):
    ids = [event_record(event_type="order_created", user_id=1) for _ in range(3)]
    worker = OutboxWorker(manager=CassandraLogManager(keyspace="no_such_keyspace_x"))
    with pytest.raises(Exception):  # noqa: B017 - whatever Cassandra says, it is not stored
        worker.step(block=False)
    assert outbox.xpending(settings.EVENT_OUTBOX_STREAM, GROUP)["pending"] == 3
    worker.manager = None  # Cassandra "comes back": the process's own manager
    assert worker.step(block=False) == 3  # its own pending entries, read again
    got = entries_of(log_manager, "order_created")
    assert sorted(str(e.event_id) for e in got) == sorted(ids)
    assert outbox.xpending(settings.EVENT_OUTBOX_STREAM, GROUP)["pending"] == 0
    assert worker.step(block=False) == 0 and not worker._own_pending
