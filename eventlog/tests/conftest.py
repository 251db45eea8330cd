"""Event-log fixtures: a clean log per test, and the outbox worker run for real (in a thread)."""

import shutil
import threading

import pytest
from django.conf import settings

from eventlog.manager import get_log_manager
from eventlog.worker import OutboxWorker


@pytest.fixture
def log_manager(cassandra_keyspace):
    """The test run's CassandraLogManager over empty tables."""
    manager = get_log_manager()
    manager.truncate()
    return manager


@pytest.fixture
def outbox(redis_client):
    """An empty outbox stream (the test Redis db is flushed) and no spool files."""
    shutil.rmtree(settings.EVENT_SPOOL_DIR, ignore_errors=True)
    yield redis_client
    shutil.rmtree(settings.EVENT_SPOOL_DIR, ignore_errors=True)


@pytest.fixture
def drain_outbox(outbox, log_manager):
    """drain_outbox(timeout=60) runs a worker until the outbox and spool are empty."""

    def drain(timeout: float = 60.0, **kwargs):
        return OutboxWorker(**kwargs).drain(timeout=timeout)

    return drain


@pytest.fixture
def running_worker(outbox, log_manager):
    """The worker's run loop in a background thread, as `manage.py eventlog_worker` runs it."""
    worker = OutboxWorker(block_ms=200, max_backoff=1.0)
    thread = threading.Thread(target=worker.run, name="eventlog-worker", daemon=True)
    thread.start()
    yield worker
    worker.stop()
    thread.join(timeout=15)
    assert not thread.is_alive(), "worker did not stop"
