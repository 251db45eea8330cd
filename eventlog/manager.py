"""CassandraLogManager: every event-log operation, over cassandra-driver prepared statements.

Tables (their schema and the statement texts: schema.py): `events_by_type_day` partitioned by
(event_type, UTC day) and clustered newest first, `events_by_hour` partitioned by UTC hour (every
type: "what happened lately" reads one partition per hour, however many types there are),
`events_by_id` for lookups by id, and `event_buckets`, a one-partition registry of the
(day, event_type) buckets written, so purges and long windows never scan the log.

Every write, metadata edit and purge goes to all three event tables, so they hold the same
entries; `get` and the API's reads answer from events_by_type_day.

Event rows are written with `USING TIMESTAMP` = the event's own time: re-delivering an event (the
worker retrying after a crash) can then never overwrite a later metadata edit, nor resurrect an
entry a purge already deleted, so a re-delivery is a no-op.
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from datetime import date, datetime, timedelta

from cassandra.concurrent import execute_concurrent
from cassandra.query import PreparedStatement
from django.conf import settings

from shopsite.cassandra_client import get_session
from shopsite.timeutil import as_utc, truncate_ms, utcnow

from .entry import LogEntry
from .log_reads import REGISTRY, LogReads, _entry, _micros, _paged
from .schema import COLUMNS, STATEMENTS

logger = logging.getLogger(__name__)

HOUR_BACKFILL = "events_by_hour_backfill"
KEYSPACE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,47}$")
_WRITE_CONCURRENCY = 64


class CassandraLogManager(LogReads):
    """The event log: write, read a time window, edit metadata, purge old buckets.

    Statements are prepared lazily, once per Cassandra session (a new session after a
    reconnect or fork prepares again).
    """

    def __init__(self, keyspace: str | None = None, session=None):
        self.keyspace = keyspace or settings.CASSANDRA_KEYSPACE
        if not KEYSPACE_RE.match(self.keyspace):
            raise ValueError(f"bad Cassandra keyspace name {self.keyspace!r}")
        self._fixed_session = session
        self._lock = threading.Lock()
        self._prepared_for = None
        self._stmts: dict[str, PreparedStatement] = {}

    # --- plumbing --------------------------------------------------------------------------------
    @property
    def session(self):
        return self._fixed_session or get_session()

    def _statements(self) -> tuple[object, dict[str, PreparedStatement]]:
        session = self.session
        if self._prepared_for is not session:
            with self._lock:
                if self._prepared_for is not session:
                    self._stmts = self._prepare(session)
                    self._prepared_for = session
        return session, self._stmts

    def _prepare(self, session) -> dict[str, PreparedStatement]:
        return {
            name: session.prepare(text.format(ks=self.keyspace, cols=COLUMNS))
            for name, text in STATEMENTS.items()
        }

    @staticmethod
    def _run_all(session, statements_and_params) -> None:
        """Run writes concurrently; raise the first failure (the caller retries: all idempotent)."""
        if not statements_and_params:
            return
        execute_concurrent(
            session,
            statements_and_params,
            concurrency=_WRITE_CONCURRENCY,
            raise_on_first_error=True,
        )

    # --- writes ----------------------------------------------------------------------------------
    def insert(
        self,
        *,
        event_type: str,
        user_id: str,
        metadata: str | None = None,
        timestamp: datetime | None = None,
        event_id: uuid.UUID | None = None,
    ) -> LogEntry:
        entry = LogEntry(
            event_id=event_id or uuid.uuid4(),
            event_type=event_type,
            user_id=user_id,
            timestamp=truncate_ms(as_utc(timestamp)) if timestamp else utcnow(),
            metadata=metadata,
        )
        self.insert_many([entry])
        return entry

    def insert_many(self, entries: list[LogEntry]) -> None:
        """Idempotent: writing the same entries again changes nothing."""
        session, st = self._statements()
        # Register buckets first: a bucket with rows is then always known to purges and reads.
        buckets = {(e.day, e.event_type) for e in entries}
        self._run_all(session, [(st["register"], (REGISTRY, d, t)) for d, t in buckets])
        writes = []
        for e in entries:
            ts = e.timestamp
            micros = _micros(ts)
            writes.append(
                (
                    st["insert_by_id"],
                    (e.event_id, e.event_type, e.day, ts, e.user_id, e.metadata, micros),
                )
            )
            writes.append(
                (
                    st["insert_by_type"],
                    (e.event_type, e.day, ts, e.event_id, e.user_id, e.metadata, micros),
                )
            )
            writes.append(
                (
                    st["insert_by_hour"],
                    (e.hour, ts, e.event_id, e.event_type, e.user_id, e.metadata, micros),
                )
            )
        self._run_all(session, writes)

    def update_metadata(self, event_id: uuid.UUID, metadata: str | None) -> LogEntry | None:
        """New metadata for an entry; None if there is no such entry."""
        entry = self.get(event_id)
        if entry is None:
            return None
        session, st = self._statements()
        e, ts = entry, entry.timestamp
        self._run_all(
            session,
            [
                (st["edit_by_id"], (e.event_id, e.event_type, e.day, ts, e.user_id, metadata)),
                (st["edit_by_type"], (e.event_type, e.day, ts, e.event_id, e.user_id, metadata)),
                (st["edit_by_hour"], (e.hour, ts, e.event_id, e.event_type, e.user_id, metadata)),
            ],
        )
        return LogEntry(e.event_id, e.event_type, e.user_id, ts, metadata)

    # --- purge -----------------------------------------------------------------------------------
    def _old_buckets(self, cutoff: datetime):
        """(day, event_type, whole) for every bucket holding entries older than cutoff."""
        session, st = self._statements()
        for row in session.execute(st["buckets_before"], (REGISTRY, cutoff.date())):
            day = row.day.date()
            yield day, row.event_type, day < cutoff.date()

    def count_older_than(self, cutoff: datetime) -> int:
        """How many entries a purge with this cutoff would delete."""
        cutoff = as_utc(cutoff)
        session, st = self._statements()
        total = 0
        for day, event_type, whole in self._old_buckets(cutoff):
            if whole:
                total += session.execute(st["count_bucket"], (event_type, day)).one()[0]
            else:
                args = (event_type, day, cutoff)
                total += session.execute(st["count_bucket_before"], args).one()[0]
        return total

    def delete_older_than(self, cutoff: datetime) -> int:
        """Delete every entry with timestamp < cutoff; returns how many were deleted.

        Day by day, oldest first: whole buckets before the cutoff's day go with one partition
        delete per table (the day's 24 hour partitions in events_by_hour), the cutoff's own day
        with range deletes; the registry says which buckets exist, so nothing is scanned beyond
        the rows being deleted (their ids, to remove the by-id rows too). The registry entry
        goes last: a purge stopped midway is finished by the next one.
        """
        cutoff = as_utc(cutoff)
        session, st = self._statements()
        by_day: dict[date, list[tuple[str, bool]]] = {}
        for day, event_type, whole in self._old_buckets(cutoff):
            by_day.setdefault(day, []).append((event_type, whole))
        deleted = 0
        for day in sorted(by_day):
            buckets = by_day[day]
            for event_type, whole in buckets:
                if whole:
                    rows = session.execute(st["ids_in_bucket"], (event_type, day))
                else:
                    rows = session.execute(st["ids_in_bucket_before"], (event_type, day, cutoff))
                ids = [r.event_id for r in rows]
                # By-id rows first: if we stop midway the log rows (and so the ids) are still there.
                self._run_all(session, [(st["delete_by_id"], (i,)) for i in ids])
                deleted += len(ids)
            self._run_all(session, self._hour_deletes(st, day, cutoff))
            for event_type, whole in buckets:
                if whole:
                    session.execute(st["delete_bucket"], (event_type, day))
                    session.execute(st["unregister"], (REGISTRY, day, event_type))
                else:
                    session.execute(st["delete_bucket_before"], (event_type, day, cutoff))
        return deleted

    @staticmethod
    def _hour_deletes(st, day: date, cutoff: datetime) -> list:
        """events_by_hour's deletes for the part of `day` before cutoff."""
        start = datetime(day.year, day.month, day.day, tzinfo=cutoff.tzinfo)
        deletes = []
        for n in range(24):
            hour = start + timedelta(hours=n)
            if hour + timedelta(hours=1) <= cutoff:
                deletes.append((st["delete_hour"], (hour,)))
            elif hour < cutoff:
                deletes.append((st["delete_hour_before"], (hour, cutoff)))
        return deletes

    # --- migration -------------------------------------------------------------------------------
    def backfill_hours(self) -> int | None:
        """Copy the entries written before events_by_hour existed into it, once per keyspace
        (init_cassandra runs this). Returns how many were copied, None if done before.

        Each row is written with its event's time as write time, like the worker's writes: a
        metadata edit made meanwhile (a later write time) wins, and a row a purge deleted
        meanwhile stays deleted."""
        session, st = self._statements()
        if session.execute(st["migration_get"], (HOUR_BACKFILL,)).one() is not None:
            return None
        copied = 0
        for bucket in list(session.execute(st["buckets_all"], (REGISTRY,))):
            rows = _paged(session, st["bucket_rows"], (bucket.event_type, bucket.day), 1000)
            batch = []
            for e in map(_entry, rows):
                args = (e.hour, e.timestamp, e.event_id, e.event_type, e.user_id, e.metadata)
                batch.append((st["insert_by_hour"], (*args, _micros(e.timestamp))))
                if len(batch) >= 1000:
                    self._run_all(session, batch)
                    copied, batch = copied + len(batch), []
            self._run_all(session, batch)
            copied += len(batch)
        session.execute(st["migration_set"], (HOUR_BACKFILL, utcnow()))
        logger.info("events_by_hour backfilled with %d entries", copied)
        return copied

    def truncate(self) -> None:
        """Empty every event-log table (tests and benchmarks only)."""
        tables = ("events_by_type_day", "events_by_hour", "events_by_id", "event_buckets")
        for table in tables:
            self.session.execute(f"TRUNCATE {self.keyspace}.{table}", timeout=60)


_default: CassandraLogManager | None = None
_default_lock = threading.Lock()


def get_log_manager() -> CassandraLogManager:
    """The process's manager for settings.CASSANDRA_KEYSPACE."""
    global _default
    if _default is None or _default.keyspace != settings.CASSANDRA_KEYSPACE:
        with _default_lock:
            if _default is None or _default.keyspace != settings.CASSANDRA_KEYSPACE:
                _default = CassandraLogManager()
    return _default
