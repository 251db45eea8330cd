"""CassandraLogManager: every event-log operation, over cassandra-driver prepared statements.

Tables (their schema and the statement texts: schema.py): `events_by_type_day` partitioned by
(event_type, UTC day) and clustered newest first, `events_by_id` for lookups by id, and
`event_buckets`, a one-partition registry of the (day, event_type) buckets written, so purges and
long windows never scan the log.

Event rows are written with `USING TIMESTAMP` = the event's own time: re-delivering an event (the
worker retrying after a crash) can then never overwrite a later metadata edit, nor resurrect an
entry a purge already deleted, so a re-delivery is a no-op.
"""

from __future__ import annotations

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
from .schema import COLUMNS, STATEMENTS

REGISTRY = "all"
KEYSPACE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,47}$")
# How many day buckets a window read fetches at once (newest first).
_BUCKETS_PER_ROUND = 8
_WRITE_CONCURRENCY = 64


def _micros(dt: datetime) -> int:
    return int(dt.timestamp() * 1_000_000)


def _entry(row) -> LogEntry:
    return LogEntry(
        event_id=row.event_id,
        event_type=row.event_type,
        user_id=row.user_id or "",
        timestamp=as_utc(row.ts),
        metadata=row.metadata,
    )


class CassandraLogManager:
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
            ],
        )
        return LogEntry(e.event_id, e.event_type, e.user_id, ts, metadata)

    # --- reads -----------------------------------------------------------------------------------
    def get(self, event_id: uuid.UUID) -> LogEntry | None:
        session, st = self._statements()
        row = session.execute(st["get_by_id"], (event_id,)).one()
        if row is None:
            return None
        entry = _entry(row)
        # A by-id row whose log row is gone (a purge interrupted midway) is not an entry.
        alive = session.execute(
            st["exists_by_type"], (entry.event_type, entry.day, entry.timestamp, entry.event_id)
        ).one()
        return entry if alive else None

    def recent(
        self,
        event_type: str,
        *,
        hours: int,
        limit: int,
        now: datetime | None = None,
        before: tuple[datetime, uuid.UUID] | None = None,
    ) -> list[LogEntry]:
        """Entries of a type in the last `hours`, newest first.

        `before` continues a page after the entry (timestamp, event_id) last shown. Reads only
        the day buckets the window touches."""
        now = as_utc(now) if now else utcnow()
        since = now - timedelta(hours=hours)
        newest = now if before is None else min(now, before[0])
        days = self._days_with_type(event_type, since.date(), newest.date())
        session, st = self._statements()
        out: list[LogEntry] = []
        if before is not None:
            ts, last_id = before
            tie = session.execute(st["window_tie"], (event_type, ts.date(), ts, last_id, limit))
            out.extend(_entry(r) for r in tie if r.ts is not None and as_utc(r.ts) >= since)
        for start in range(0, len(days), _BUCKETS_PER_ROUND):
            if len(out) >= limit:
                break
            remaining = limit - len(out)
            futures = []
            for day in days[start : start + _BUCKETS_PER_ROUND]:
                if before is None:
                    args = (event_type, day, since, remaining)
                    futures.append(session.execute_async(st["window"], args))
                else:
                    args = (event_type, day, since, before[0], remaining)
                    futures.append(session.execute_async(st["window_before"], args))
            for future in futures:
                out.extend(_entry(r) for r in future.result())
                if len(out) >= limit:
                    break
        return out[:limit]

    def _days_with_type(self, event_type: str, first: date, last: date) -> list[date]:
        """The days in [first, last] that may hold the type's entries, newest first."""
        span = (last - first).days
        if span < 0:
            return []
        if span <= 2:  # a short window: reading the few buckets directly is cheaper
            return [last - timedelta(days=i) for i in range(span + 1)]
        session, st = self._statements()
        rows = session.execute(st["buckets_between"], (REGISTRY, first, last))
        days = {r.day.date() for r in rows if r.event_type == event_type}
        return sorted(days, reverse=True)

    def event_types(self, days: int = 366) -> list[str]:
        """Event types written in the last `days` days (from the bucket registry)."""
        session, st = self._statements()
        today = utcnow().date()
        rows = session.execute(
            st["buckets_between"], (REGISTRY, today - timedelta(days=days), today)
        )
        return sorted({r.event_type for r in rows})

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

        Whole buckets before the cutoff's day go with one partition delete, the cutoff's own
        day with one range delete; the registry says which buckets exist, so nothing is scanned
        beyond the rows being deleted (their ids, to remove the by-id rows too).
        """
        cutoff = as_utc(cutoff)
        session, st = self._statements()
        deleted = 0
        for day, event_type, whole in list(self._old_buckets(cutoff)):
            if whole:
                ids = [r.event_id for r in session.execute(st["ids_in_bucket"], (event_type, day))]
            else:
                args = (event_type, day, cutoff)
                ids = [r.event_id for r in session.execute(st["ids_in_bucket_before"], args)]
            # By-id rows first: if we stop midway the log rows (and so the ids) are still there.
            self._run_all(session, [(st["delete_by_id"], (i,)) for i in ids])
            if whole:
                session.execute(st["delete_bucket"], (event_type, day))
                session.execute(st["unregister"], (REGISTRY, day, event_type))
            else:
                session.execute(st["delete_bucket_before"], (event_type, day, cutoff))
            deleted += len(ids)
        return deleted

    def truncate(self) -> None:
        """Empty every event-log table (tests and benchmarks only)."""
        for table in ("events_by_type_day", "events_by_id", "event_buckets"):
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
