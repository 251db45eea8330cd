"""CassandraLogManager against the real Cassandra: day buckets, windows, paging, purges."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from eventlog.manager import LogEntry

NOW = datetime(2026, 11, 27, 5, 0, tzinfo=UTC)  # early in a UTC day: 23 h ago is yesterday


def insert(manager, hours_ago: float, event_type="order_created", now=NOW, **kwargs):
    return manager.insert(
        event_type=event_type,
        user_id="u1",
        metadata=f"{hours_ago}h",
        timestamp=now - timedelta(hours=hours_ago),
        **kwargs,
    )


class QueryLog:
    """Records the CQL of every request the session sends (Cassandra's own request hook)."""

    def __init__(self, session):
        self.session, self.queries = session, []

    def __call__(self, response_future):
        query = response_future.query
        prepared = getattr(query, "prepared_statement", None)
        text = prepared.query_string if prepared else getattr(query, "query_string", str(query))
        self.queries.append((text, query))

    def __enter__(self):
        self.session.add_request_init_listener(self)
        return self

    def __exit__(self, *exc):
        self.session.remove_request_init_listener(self)

    def days_read(self):
        """Bucket days of the window reads (bound values of the prepared SELECTs)."""
        days = []
        for text, query in self.queries:
            if "FROM" in text and "events_by_type_day" in text and "ts >=" in text:
                # a CQL date: days since the epoch, offset by 2**31
                raw = int.from_bytes(query.values[1], "big") - 2**31
                days.append(date(1970, 1, 1) + timedelta(days=raw))
        return days


def test_window_across_utc_midnight_reads_yesterdays_bucket(log_manager):
    inside = insert(log_manager, 23)  # yesterday 06:00
    insert(log_manager, 25)  # yesterday 04:00: outside 24 h
    recent = insert(log_manager, 0.5)  # today 04:30
    assert inside.day != NOW.date()
    got = log_manager.recent("order_created", hours=24, limit=100, now=NOW)
    assert [e.event_id for e in got] == [recent.event_id, inside.event_id]
    got = log_manager.recent("order_created", hours=22, limit=100, now=NOW)
    assert [e.event_id for e in got] == [recent.event_id]


def test_window_edge_is_inclusive_at_exactly_hours(log_manager):
    edge = insert(log_manager, 24)  # exactly 24 h before now: yesterday 05:00
    insert(log_manager, 24 + 1 / 3600)  # one second older
    got = log_manager.recent("order_created", hours=24, limit=10, now=NOW)
    assert [e.event_id for e in got] == [edge.event_id]


def test_newest_first_limit_and_other_types_apart(log_manager):
    entries = [insert(log_manager, h) for h in (5, 1, 3, 30, 2)]
    insert(log_manager, 1, event_type="stock_changed")
    got = log_manager.recent("order_created", hours=48, limit=3, now=NOW)
    assert [e.metadata for e in got] == ["1h", "2h", "3h"]
    got = log_manager.recent("order_created", hours=48, limit=100, now=NOW)
    assert len(got) == len(entries) and all(e.event_type == "order_created" for e in got)
    assert [e.timestamp for e in got] == sorted((e.timestamp for e in got), reverse=True)


def test_reads_only_the_buckets_the_window_touches(log_manager):
    for days_ago in (0, 1, 5, 40):
        insert(log_manager, days_ago * 24 + 1)
    session = log_manager.session
    with QueryLog(session) as log:
        log_manager.recent("order_created", hours=24, limit=100, now=NOW)
    assert log.days_read() == [NOW.date(), NOW.date() - timedelta(days=1)]
    with QueryLog(session) as log:
        got = log_manager.recent("order_created", hours=24 * 10, limit=100, now=NOW)
    # A long window asks the bucket registry and reads only the days that hold this type.
    assert len(got) == 3
    assert sorted(log.days_read(), reverse=True) == [
        NOW.date() - timedelta(days=d) for d in (0, 1, 5)
    ]
    assert any("event_buckets" in text for text, _ in log.queries)


def test_paging_with_before_cursor_includes_same_timestamp_entries(log_manager):
    ts = NOW - timedelta(hours=2)
    same = [
        log_manager.insert(event_type="login_failed", user_id="u", timestamp=ts) for _ in range(3)
    ]
    older = insert(log_manager, 26, event_type="login_failed")
    newest = insert(log_manager, 1, event_type="login_failed")
    seen, before = [], None
    while True:
        page = log_manager.recent("login_failed", hours=48, limit=2, now=NOW, before=before)
        seen.extend(page)
        if len(page) < 2:
            break
        before = (page[-1].timestamp, page[-1].event_id)
    ids = [e.event_id for e in seen]
    assert ids[0] == newest.event_id and ids[-1] == older.event_id
    assert sorted(ids[1:4]) == sorted(e.event_id for e in same)
    assert len(ids) == len(set(ids)) == 5


def test_insert_is_idempotent_by_event_id(log_manager):
    entry = insert(log_manager, 1)
    again = LogEntry(entry.event_id, entry.event_type, entry.user_id, entry.timestamp, "other")
    log_manager.insert_many([again, again])
    got = log_manager.recent("order_created", hours=24, limit=100, now=NOW)
    assert [e.event_id for e in got] == [entry.event_id]


def test_redelivery_never_overwrites_a_later_metadata_edit(log_manager):
    entry = log_manager.insert(event_type="stock_changed", user_id="u", metadata="original")
    log_manager.update_metadata(entry.event_id, "edited")
    log_manager.insert_many([entry])  # the worker re-delivering the original event
    assert log_manager.get(entry.event_id).metadata == "edited"
    got = log_manager.recent("stock_changed", hours=1, limit=10)
    assert [e.metadata for e in got] == ["edited"]


def test_update_metadata_changes_both_tables(log_manager):
    entry = insert(log_manager, 2)
    updated = log_manager.update_metadata(entry.event_id, '{"note": "x"}')
    assert updated.metadata == '{"note": "x"}' and updated.timestamp == entry.timestamp
    assert log_manager.get(entry.event_id).metadata == '{"note": "x"}'
    got = log_manager.recent("order_created", hours=24, limit=10, now=NOW)
    assert got[0].metadata == '{"note": "x"}'
    assert log_manager.update_metadata(uuid.uuid4(), "x") is None


def test_delete_older_than_removes_only_older_entries_and_counts_them(log_manager):
    now = datetime.now(UTC)
    keep = [insert(log_manager, h, now=now) for h in (0, 24 * 6, 24 * 7 - 1)]
    old = [insert(log_manager, h, now=now) for h in (24 * 7 + 1, 24 * 8, 24 * 30)]
    old.append(insert(log_manager, 24 * 9, event_type="backup_completed", now=now))
    keep.append(insert(log_manager, 1, event_type="backup_completed", now=now))
    cutoff = now - timedelta(days=7)
    assert log_manager.count_older_than(cutoff) == 4
    assert log_manager.delete_older_than(cutoff) == 4
    for entry in old:
        assert log_manager.get(entry.event_id) is None
    for entry in keep:
        assert log_manager.get(entry.event_id) == entry
    got = log_manager.recent("order_created", hours=8760, limit=100, now=now)
    assert sorted(e.event_id for e in got) == sorted(e.event_id for e in keep[:3])
    # Whole old buckets left the registry; the cutoff's own day (still holding newer rows) stays.
    assert log_manager.delete_older_than(cutoff) == 0
    assert log_manager.count_older_than(cutoff) == 0


def test_purge_deletes_whole_buckets_and_range_deletes_the_boundary(log_manager):
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    boundary_old = insert(log_manager, 24 * 7 + 2, now=now)  # 20 Nov 10:00
    boundary_new = insert(log_manager, 24 * 7 - 2, now=now)  # 20 Nov 14:00
    insert(log_manager, 24 * 9, now=now)
    session = log_manager.session
    with QueryLog(session) as log:
        assert log_manager.delete_older_than(now - timedelta(days=7)) == 2
    deletes = [text for text, _ in log.queries if text.startswith("DELETE FROM")]
    assert any(
        "events_by_type_day WHERE event_type = ? AND day = ? AND ts < ?" in t for t in deletes
    )
    assert any(t.endswith("events_by_type_day WHERE event_type = ? AND day = ?") for t in deletes)
    # No statement reads the log without naming its partition.
    selects = [text for text, _ in log.queries if text.startswith("SELECT")]
    assert all("event_type = ?" in t or "registry = ?" in t for t in selects)
    assert log_manager.get(boundary_old.event_id) is None
    assert log_manager.get(boundary_new.event_id) == boundary_new


def test_event_types_from_the_registry(log_manager):
    insert(log_manager, 1, now=datetime.now(UTC), event_type="a.b-c_d")
    insert(log_manager, 1, now=datetime.now(UTC), event_type="session_created")
    assert log_manager.event_types() == ["a.b-c_d", "session_created"]


def test_bad_keyspace_name_is_refused():
    from eventlog.manager import CassandraLogManager

    with pytest.raises(ValueError):
        CassandraLogManager(keyspace="x; DROP KEYSPACE y")
