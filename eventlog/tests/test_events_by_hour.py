"""events_by_hour: every type, one partition per UTC hour, kept exact with events_by_type_day
(writes through the outbox, metadata edits, purges), and what reads it: the events page's "last
hour, all types", the home page's latest events."""

import uuid
from datetime import UTC, datetime, timedelta
from itertools import islice

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from eventlog import selectors, services
from eventlog.entry import LogEntry
from eventlog.manager import HOUR_BACKFILL, CassandraLogManager

pytestmark = pytest.mark.django_db


def hour_rows(manager, hour: datetime) -> list:
    session, st = manager._statements()
    return list(session.execute(st["hour_all"], (hour,)))


def all_hour_ids(manager, entries) -> set:
    found = set()
    for hour in {e.hour for e in entries}:
        found |= {r.event_id for r in hour_rows(manager, hour)}
    return found


class CountingSession:
    def __init__(self, session):
        self._session = session
        self.queries = 0

    def execute(self, *args, **kwargs):
        self.queries += 1
        return self._session.execute(*args, **kwargs)

    def execute_async(self, *args, **kwargs):
        self.queries += 1
        return self._session.execute_async(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._session, name)


def test_the_worker_writes_both_tables_once(drain_outbox, log_manager):
    ids = [
        services.event_record(event_type=f"type_{i % 3}", user_id=i, metadata={"i": i})
        for i in range(30)
    ]
    drain_outbox()
    entries = [log_manager.get(uuid.UUID(i)) for i in ids]
    assert all(entries)
    assert all_hour_ids(log_manager, entries) == {e.event_id for e in entries}
    # A re-delivery (the worker retrying after a crash) changes nothing in either table.
    log_manager.insert_many(entries)
    rows = [r for hour in {e.hour for e in entries} for r in hour_rows(log_manager, hour)]
    assert len(rows) == 30


def test_metadata_edit_reaches_the_hour_table(log_manager):
    entry = log_manager.insert(event_type="t", user_id="1", metadata="before")
    services.log_update_metadata(event_id=str(entry.event_id), metadata="after")
    (row,) = hour_rows(log_manager, entry.hour)
    assert row.metadata == "after"
    # A late re-delivery of the original event does not bring the old metadata back.
    log_manager.insert_many([entry])
    assert hour_rows(log_manager, entry.hour)[0].metadata == "after"


def test_purge_applies_to_the_hour_table(log_manager):
    now = datetime.now(UTC)
    old = [
        log_manager.insert(event_type=t, user_id="1", timestamp=now - timedelta(days=d, hours=h))
        for t in ("a", "b")
        for d, h in ((9, 0), (8, 5), (7, 1), (7, -1))
    ]
    young = log_manager.insert(event_type="a", user_id="1", timestamp=now - timedelta(days=6))
    cutoff = now - timedelta(days=7)
    expected_gone = {e.event_id for e in old if e.timestamp < cutoff}
    assert log_manager.delete_older_than(cutoff) == len(expected_gone)
    left = all_hour_ids(log_manager, [*old, young])
    assert left == {e.event_id for e in old if e.timestamp >= cutoff} | {young.event_id}
    # The purge is exact on every table: the remaining entries are the same.
    since = now - timedelta(days=30)
    by_type = {e.event_id for e in log_manager.stream(since=since, types=["a", "b"])}
    by_hour = {e.event_id for e in log_manager.stream(since=since)}
    assert by_type == by_hour == left


def test_stream_pages_across_hours_with_ties_without_gaps(log_manager):
    now = datetime.now(UTC).replace(microsecond=0)
    entries = []
    for i in range(40):
        ts = now - timedelta(minutes=17 * (i // 2))  # pairs of equal timestamps
        entries.append(log_manager.insert(event_type=f"t{i % 5}", user_id="u", timestamp=ts))
    since = now - timedelta(hours=12)
    seen, before = [], None
    while True:
        page = list(islice(log_manager.stream(since=since, before=before, page_rows=3), 7))
        if not page:
            break
        seen.extend(page)
        before = (page[-1].timestamp, page[-1].event_id)
    assert len(seen) == len({e.event_id for e in seen}) == 40
    assert [e.timestamp for e in seen] == sorted((e.timestamp for e in entries), reverse=True)
    # The by-type merge gives the same order.
    merged = list(log_manager.stream(since=since, types=[f"t{i}" for i in range(5)]))
    assert [e.event_id for e in merged] == [e.event_id for e in seen]


def test_latest_reads_one_partition_whatever_the_number_of_types(log_manager):
    now = datetime.now(UTC)
    start = now.replace(minute=0, second=0, microsecond=0)
    if now - start < timedelta(seconds=20):
        start = now - timedelta(seconds=20)  # the hour has just begun: stay inside it
    entries = [
        LogEntry(uuid.uuid4(), f"type_{i}", "1", start + (now - start) * i / 300, None)
        for i in range(300)
    ]
    log_manager.insert_many(entries)
    counting = CountingSession(log_manager.session)
    manager = CassandraLogManager(session=counting)
    manager._statements()
    counting.queries = 0
    latest = list(islice(manager.stream(since=now - timedelta(hours=24), page_rows=8), 8))
    newest = sorted(entries, key=lambda e: e.timestamp, reverse=True)[:8]
    assert [e.event_id for e in latest] == [e.event_id for e in newest]
    assert counting.queries == 1


def test_a_sparse_window_reads_at_most_one_partition_per_hour(log_manager):
    now = datetime.now(UTC)
    log_manager.insert(event_type="x", user_id="1", timestamp=now - timedelta(hours=23))
    counting = CountingSession(log_manager.session)
    manager = CassandraLogManager(session=counting)
    manager._statements()
    counting.queries = 0
    found = list(islice(manager.stream(since=now - timedelta(hours=24), page_rows=8), 8))
    assert len(found) == 1 and counting.queries <= 25


def test_a_sparse_year_reads_only_the_hours_of_days_with_entries(log_manager):
    """A year's window (an order's events link) on a quiet log: the registry says which days
    hold entries; the other 8,000-odd hours are never asked for."""
    now = datetime.now(UTC)
    old = log_manager.insert(event_type="x", user_id="1", timestamp=now - timedelta(days=200))
    new = log_manager.insert(event_type="y", user_id="1", timestamp=now - timedelta(minutes=1))
    counting = CountingSession(log_manager.session)
    manager = CassandraLogManager(session=counting)
    manager._statements()
    counting.queries = 0
    found = list(manager.stream(since=now - timedelta(hours=8760), page_rows=8))
    assert [e.event_id for e in found] == [new.event_id, old.event_id]
    # The registry, then at most the 24 hours of each of the two days with entries.
    assert counting.queries <= 1 + 2 * 24
    # The filtered events page on that window finds the old entry the same way.
    page = selectors.events_browse(hours=8760, limit=50, user_id="1", types=None)
    assert [e.event_id for e in page.entries] == [new.event_id, old.event_id]


def test_backfill_copies_entries_written_before_the_table_existed(log_manager):
    """A keyspace from before events_by_hour: its entries are in the other tables only."""
    now = datetime.now(UTC).replace(microsecond=0)
    session, st = log_manager._statements()
    entries = []
    for h in (1, 30, 100):
        e = LogEntry(uuid.uuid4(), "old", "1", now - timedelta(hours=h), "m")
        micros = int(e.timestamp.timestamp() * 1_000_000)
        session.execute(st["register"], ("all", e.day, e.event_type))
        args = (e.event_type, e.day, e.timestamp, e.event_id, e.user_id, e.metadata, micros)
        session.execute(st["insert_by_type"], args)
        entries.append(e)
    ks = log_manager.keyspace
    session.execute(f"DELETE FROM {ks}.eventlog_migrations WHERE name = %s", (HOUR_BACKFILL,))
    assert all_hour_ids(log_manager, entries) == set()
    assert log_manager.backfill_hours() == 3
    assert all_hour_ids(log_manager, entries) == {e.event_id for e in entries}
    assert log_manager.backfill_hours() is None  # once per keyspace


def test_browse_filters_by_user_and_subject(log_manager):
    now = datetime.now(UTC)
    for i in range(12):
        log_manager.insert(
            event_type=("order_created", "stock_changed")[i % 2],
            user_id=str(i % 3),
            metadata=f'{{"order_id": "o{i % 4}"}}',
            timestamp=now - timedelta(minutes=i),
        )
    page = selectors.events_browse(hours=1, limit=50, user_id="1")
    assert [e.user_id for e in page.entries] == ["1"] * 4 and page.cursor is None
    page = selectors.events_browse(hours=1, limit=50, about="o2")
    assert len(page.entries) == 3 and all("o2" in e.metadata for e in page.entries)
    page = selectors.events_browse(hours=1, limit=2, types=["stock_changed"], user_id="0")
    assert [e.event_type for e in page.entries] == ["stock_changed"] * 2
    assert page.cursor == (page.entries[-1].timestamp, page.entries[-1].event_id)


def test_a_filtered_page_reads_a_bounded_number_of_entries(log_manager, monkeypatch):
    monkeypatch.setattr(selectors, "SCAN_MAX", 10)
    now = datetime.now(UTC)
    for i in range(25):
        log_manager.insert(event_type="t", user_id="other", timestamp=now - timedelta(seconds=i))
    page = selectors.events_browse(hours=1, limit=50, user_id="nobody")
    assert page.entries == [] and page.truncated and page.cursor is not None
    rest = selectors.events_browse(hours=1, limit=50, user_id="nobody", before=page.cursor)
    assert rest.truncated
    last = selectors.events_browse(hours=1, limit=50, user_id="nobody", before=rest.cursor)
    assert not last.truncated and last.cursor is None


def test_user_names_in_one_query_then_from_the_cache(staff_user, other_staff_user, redis_client):
    ids = [str(staff_user.pk), str(other_staff_user.pk), "api-client-7", "999999"]
    with CaptureQueriesContext(connection) as queries:
        names = selectors.user_names(ids * 3)
    assert names == {str(staff_user.pk): "staff", str(other_staff_user.pk): "staff2"}
    assert len(queries) == 1
    with CaptureQueriesContext(connection) as queries:
        assert selectors.user_names(ids[:2]) == names
    assert len(queries) == 0
