"""CassandraLogManager's reads (a mixin: the statements and the session are the manager's).

- `get`: one entry by id, from events_by_id (checked against events_by_type_day).
- `recent`: one type's window, the API's GET /logs/ (events_by_type_day, day buckets).
- `stream`: newest first, lazily: every type from events_by_hour (one partition per hour), or
  several types merged from their own buckets; the events page and the home panel.
"""

from __future__ import annotations

import heapq
import uuid
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta

from shopsite.timeutil import as_utc, utcnow

from .entry import LogEntry

REGISTRY = "all"
# How many day buckets a window read fetches at once (newest first).
_BUCKETS_PER_ROUND = 8


def _micros(dt: datetime) -> int:
    return int(dt.timestamp() * 1_000_000)


def _hour(ts: datetime) -> datetime:
    return ts.replace(minute=0, second=0, microsecond=0)


def _order_key(entry: LogEntry) -> tuple:
    """Newest first, then event_id as Cassandra's uuid type sorts it (version, then bytes), so a
    merge of several partitions comes out in the order each partition is clustered in."""
    return (-_micros(entry.timestamp), entry.event_id.version or 0, entry.event_id.bytes)


def _paged(session, statement, args, rows: int):
    """A lazily paged read: the driver fetches `rows` at a time while the caller iterates."""
    bound = statement.bind(args)
    bound.fetch_size = rows
    return session.execute(bound)


def _paged_async(session, statement, args, rows: int):
    """The same, sent now: its result() pages lazily like _paged's."""
    bound = statement.bind(args)
    bound.fetch_size = rows
    return session.execute_async(bound)


def _entry(row) -> LogEntry:
    return LogEntry(
        event_id=row.event_id,
        event_type=row.event_type,
        user_id=row.user_id or "",
        timestamp=as_utc(row.ts),
        metadata=row.metadata,
    )


class LogReads:
    """Reads of the event log; mixed into CassandraLogManager."""

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

    def stream(
        self,
        *,
        since: datetime,
        types: Iterable[str] | None = None,
        before: tuple[datetime, uuid.UUID] | None = None,
        now: datetime | None = None,
        page_rows: int = 100,
    ) -> Iterator[LogEntry]:
        """Entries from `since` on, newest first, read lazily while the caller iterates.

        Every type (types None): events_by_hour, one partition per hour, newest hour first; a
        caller that stops after n entries has read only the hours holding them (one partition
        when the newest hour holds n). Given types: each type's day buckets
        (events_by_type_day), merged. `before` continues after the entry (timestamp, id) last
        seen. page_rows: rows fetched per round trip."""
        since = as_utc(since)
        now = as_utc(now) if now else utcnow()
        if before is not None:
            before = (as_utc(before[0]), before[1])
        if types is None:
            return self._stream_hours(since, now, before, page_rows)
        streams = [self._stream_type(t, since, now, before, page_rows) for t in sorted(set(types))]
        return heapq.merge(*streams, key=_order_key)

    def _stream_hours(self, since, now, before, page_rows) -> Iterator[LogEntry]:
        """The hours' partitions newest first, in rounds of 1, 2, 4 ... 24 hours read at once: a
        reader that stops in the newest hour has made one query, a sparse year a few hundred."""
        session, st = self._statements()
        hours = self._hours_with_entries(since, now if before is None else min(now, before[0]))
        start, size = 0, 1
        while start < len(hours):
            pending = []
            for hour in hours[start : start + size]:
                if before is not None and hour == _hour(before[0]):
                    ts, last_id = before
                    if ts >= since:
                        pending.append(
                            _paged_async(session, st["hour_tie"], (hour, ts, last_id), page_rows)
                        )
                    args = (hour, since, ts)
                    pending.append(_paged_async(session, st["hour_window_before"], args, page_rows))
                else:
                    pending.append(
                        _paged_async(session, st["hour_window"], (hour, since), page_rows)
                    )
            for future in pending:
                yield from map(_entry, future.result())
            start, size = start + size, min(size * 2, 24)

    def _hours_with_entries(self, since: datetime, newest: datetime) -> list[datetime]:
        """The UTC hours in [since, newest] that may hold entries, newest first: every hour of a
        short window, else only the hours of the days the bucket registry knows (it is written
        before the entries, and unregistered after them)."""
        first, last = _hour(since), _hour(newest)
        if last < first:
            return []
        days = self._registered_days(since.date(), newest.date())
        hours, hour = [], last
        while hour >= first:
            if days is None or hour.date() in days:
                hours.append(hour)
            hour -= timedelta(hours=1)
        return hours

    def _stream_type(self, event_type, since, now, before, page_rows) -> Iterator[LogEntry]:
        session, st = self._statements()
        newest = now if before is None else min(now, before[0])
        everything = 2**31 - 1  # the statements' LIMIT; paging bounds what is really read
        for day in self._days_with_type(event_type, since.date(), newest.date()):
            if before is not None and day == before[0].date():
                ts, last_id = before
                if ts >= since:
                    args = (event_type, day, ts, last_id, everything)
                    yield from map(_entry, _paged(session, st["window_tie"], args, page_rows))
                args = (event_type, day, since, ts, everything)
                rows = _paged(session, st["window_before"], args, page_rows)
            else:
                args = (event_type, day, since, everything)
                rows = _paged(session, st["window"], args, page_rows)
            yield from map(_entry, rows)

    def _days_with_type(self, event_type: str, first: date, last: date) -> list[date]:
        """The days in [first, last] that may hold the type's entries, newest first."""
        if last < first:
            return []
        registered = self._registered_days(first, last, event_type)
        if registered is None:
            registered = {last - timedelta(days=i) for i in range((last - first).days + 1)}
        return sorted(registered, reverse=True)

    def _registered_days(self, first: date, last: date, event_type: str | None = None):
        """The days in [first, last] with a registered bucket (of `event_type`, or of any type),
        from one registry query; None for a window of at most 3 days, cheaper read directly."""
        if (last - first).days <= 2:
            return None
        session, st = self._statements()
        rows = session.execute(st["buckets_between"], (REGISTRY, first, last))
        return {r.day.date() for r in rows if event_type is None or r.event_type == event_type}

    def event_types(self, days: int = 366) -> list[str]:
        """Event types written in the last `days` days (from the bucket registry)."""
        session, st = self._statements()
        today = utcnow().date()
        rows = session.execute(
            st["buckets_between"], (REGISTRY, today - timedelta(days=days), today)
        )
        return sorted({r.event_type for r in rows})
