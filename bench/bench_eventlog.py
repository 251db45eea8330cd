"""Event log: writes/s and GET /logs/ latency through HTTP (gunicorn) next to the direct driver.

    .venv/bin/python -m bench.bench_eventlog --seed 20000 --writes 3000 --reads 500 --clients 8
    .venv/bin/python -m bench.bench_eventlog --types 10,1000 --only-latest

--types: the home page's "Latest events" and the events page's "last hour, all types" with that
many event types in the log: Cassandra queries per read and latency, next to the per-type fan-out
they replaced (one query per type seen in the window).

Runs against the bench keyspace (its event tables are emptied first). Rows:
- direct: cassandra-driver prepared statements with no HTTP or Django around them: one INSERT
  per round trip, then CassandraLogManager.insert_many (what the worker does: by-id, by-type and
  by-hour rows, concurrently), then reads of one day bucket and of a 24 h window (two buckets).
- outbox: event_record (what every request that records an event pays: one XADD) and the
  worker draining those events into Cassandra (events/s end to end).
- HTTP: POST /logs/ (written straight to Cassandra) and GET /logs/?event_type=&hours=24&limit=
  with --clients concurrent clients and the bench admin's bearer token.
"""

import argparse
import asyncio
import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from itertools import islice
from operator import attrgetter

import httpx

from bench.server import http_phase, manage, percentile, production_server, setup_django

TYPE = "bench_event"
# A bench user of our own: other benchmarks log the shared bench admin in, which replaces its token.
BENCH_USER = "bench-eventlog"
BENCH_PASSWORD = "bench-" + "eventlog-" + "pass-0123456789"
HEADER = f"{'operation':<62} {'ops':>7} {'ops/s':>9} {'p50 ms':>8} {'p99 ms':>8}"


def row(label: str, count: int, elapsed: float, latencies_ms: list[float] | None = None) -> str:
    p50 = p99 = ""
    if latencies_ms:
        p50 = f"{percentile(latencies_ms, 50):.2f}"
        p99 = f"{percentile(latencies_ms, 99):.2f}"
    return f"{label:<62} {count:>7} {count / elapsed:>9.0f} {p50:>8} {p99:>8}"


def timed_loop(count: int, func) -> tuple[float, list[float]]:
    latencies = []
    started = time.perf_counter()
    for i in range(count):
        t0 = time.perf_counter()
        func(i)
        latencies.append((time.perf_counter() - t0) * 1000)
    return time.perf_counter() - started, latencies


def seed(manager, count: int) -> None:
    """count entries of TYPE spread over the last 24 hours (so two day buckets)."""
    from eventlog.manager import LogEntry

    now = datetime.now(UTC)
    step = timedelta(hours=24) / max(count, 1)
    entries = [
        LogEntry(uuid.uuid4(), TYPE, "bench", now - step * i, f'{{"i": {i}}}') for i in range(count)
    ]
    for start in range(0, count, 1000):
        manager.insert_many(entries[start : start + 1000])


def bench_direct(writes: int, reads: int, limit: int) -> list[str]:
    from eventlog.manager import REGISTRY, LogEntry, get_log_manager

    manager = get_log_manager()
    session, st = manager._statements()
    lines = []
    now = datetime.now(UTC)
    day = now.date()
    session.execute(st["register"], (REGISTRY, day, "bench_direct"))

    def one_insert(i):
        ts = datetime.now(UTC)
        micros = int(ts.timestamp() * 1e6)
        args = ("bench_direct", day, ts, uuid.uuid4(), "bench", "{}", micros)
        session.execute(st["insert_by_type"], args)

    elapsed, lat = timed_loop(writes, one_insert)
    lines.append(row("direct INSERT by-type row, 1 per round trip", writes, elapsed, lat))

    entries = [
        LogEntry(uuid.uuid4(), "bench_batch", "bench", datetime.now(UTC), "{}")
        for _ in range(writes)
    ]
    started = time.perf_counter()
    for start in range(0, writes, 500):
        manager.insert_many(entries[start : start + 500])
    lines.append(
        row("direct insert_many (500/batch, 3 rows each)", writes, time.perf_counter() - started)
    )

    since = now - timedelta(hours=24)
    elapsed, lat = timed_loop(
        reads, lambda i: list(session.execute(st["window"], (TYPE, day, since, limit)))
    )
    lines.append(row(f"direct SELECT one bucket LIMIT {limit}", reads, elapsed, lat))
    elapsed, lat = timed_loop(reads, lambda i: manager.recent(TYPE, hours=24, limit=limit))
    lines.append(row(f"direct manager.recent(24 h, limit {limit})", reads, elapsed, lat))
    return lines


def bench_outbox(events: int) -> list[str]:
    from django.conf import settings

    from eventlog.services import event_record
    from eventlog.worker import OutboxWorker
    from shopsite.redis_client import get_redis

    get_redis().delete(settings.EVENT_OUTBOX_STREAM)
    elapsed, lat = timed_loop(
        events, lambda i: event_record(event_type="bench_outbox", user_id=1, metadata={"i": i})
    )
    lines = [row("event_record (XADD to the outbox)", events, elapsed, lat)]
    started = time.perf_counter()
    stats = OutboxWorker().drain(timeout=600)
    lines.append(
        row(
            "worker: outbox -> Cassandra (ack after write)",
            stats.written,
            time.perf_counter() - started,
        )
    )
    return lines


class CountingSession:
    """A cassandra-driver session that counts the statements sent through it (each a query of
    one partition here; further pages of a paged read are not new queries)."""

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


def bench_latest(type_counts: list[int], reads: int, per_type: int = 5) -> list[str]:
    """Per number of types: `per_type` entries of each type over the last 24 hours, 200 of them
    in the last hour; then the home panel (newest 8 in 24 h) and the events page's first page
    (newest 50 in the last hour, every type) read through a counting session."""
    from eventlog import selectors
    from eventlog.manager import CassandraLogManager, LogEntry, get_log_manager
    from shopsite.cassandra_client import get_session

    lines = []
    for types in type_counts:
        get_log_manager().truncate()
        now = datetime.now(UTC)
        total = types * per_type
        step = timedelta(hours=24) / total
        entries = [
            LogEntry(uuid.uuid4(), f"type_{i % types:04d}", str(i % 7), now - step * i, "{}")
            for i in range(total)
        ]
        for start in range(0, total, 1000):
            get_log_manager().insert_many(entries[start : start + 1000])
        counting = CountingSession(get_session())
        manager = CassandraLogManager(session=counting)
        manager._statements()  # prepared outside the timings

        def fan_out(i, manager=manager):
            found = []
            for t in manager.event_types(days=1):
                found.extend(manager.recent(t, hours=24, limit=8))
            return sorted(found, key=attrgetter("timestamp"), reverse=True)[:8]

        def panel(i, manager=manager):
            since = datetime.now(UTC) - timedelta(hours=24)
            return list(islice(manager.stream(since=since, page_rows=8), 8))

        def last_hour(i, manager=manager):
            since = datetime.now(UTC) - timedelta(hours=1)
            return list(islice(manager.stream(since=since, page_rows=51), 51))

        assert [e.event_id for e in panel(0)] == [e.event_id for e in fan_out(0)]
        for label, func, count in (
            ("per-type fan-out (before), newest 8 in 24 h", fan_out, max(3, reads // 50)),
            ("home panel: events_by_hour, newest 8 in 24 h", panel, reads),
            ("events page: last hour, all types, 50", last_hour, reads),
        ):
            counting.queries = 0
            elapsed, lat = timed_loop(count, func)
            queries = counting.queries / count
            lines.append(row(f"{types:>5} types: {label} [{queries:.0f} q]", count, elapsed, lat))
    # The same selector the view calls, for one sanity figure through Django's layers.
    elapsed, lat = timed_loop(reads, lambda i: selectors.events_latest(hours=24, limit=8))
    lines.append(row(f"{type_counts[-1]:>5} types: selectors.events_latest", reads, elapsed, lat))
    return lines


def bench_http(writes: int, reads: int, clients: int, workers: int, limit: int) -> list[str]:
    lines = []
    with production_server(workers=workers) as server:
        script = (
            "from django.contrib.auth.models import User\n"
            f"u, _ = User.objects.get_or_create(username={BENCH_USER!r})\n"
            "u.is_staff = True\n"
            f"u.set_password({BENCH_PASSWORD!r}); u.save()\n"
        )
        manage("shell", "-c", script)
        login = httpx.post(
            server.url + "/auth/login/", json={"username": BENCH_USER, "password": BENCH_PASSWORD}
        )
        if login.status_code != 200:
            raise SystemExit(f"could not log in to the bench server: {login.status_code}")
        auth = {"Authorization": f"Bearer {login.json()['session_token']}"}
        body = {"user_id": "bench", "event_type": "bench_http", "metadata": '{"k": "v"}'}
        phases = [
            (
                "HTTP POST /logs/",
                writes,
                lambda client: client.post("/logs/", json=body),
            ),
            (
                f"HTTP GET /logs/ 24 h, limit {limit}",
                reads,
                lambda client: client.get(
                    "/logs/", params={"event_type": TYPE, "hours": 24, "limit": limit}
                ),
            ),
            (
                "HTTP GET /logs/ 24 h, limit 10",
                reads,
                lambda client: client.get(
                    "/logs/", params={"event_type": TYPE, "hours": 24, "limit": 10}
                ),
            ),
        ]
        for label, count, make in phases:
            latencies, statuses, elapsed = asyncio.run(
                http_phase(server.url, auth, count, clients, make, timeout=30)
            )
            bad = {code: n for code, n in statuses.items() if code not in (200, 201)}
            suffix = f"  non-2xx: {bad}" if bad else ""
            lines.append(row(label, len(latencies), elapsed, latencies) + suffix)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=5000, help="entries in the read window")
    parser.add_argument("--writes", type=int, default=2000)
    parser.add_argument("--reads", type=int, default=300)
    parser.add_argument("--limit", type=int, default=100, help="GET limit")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (x 4 threads)")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument(
        "--types", default="10,1000", help="event-type counts for the latest-events reads"
    )
    parser.add_argument(
        "--only-latest", action="store_true", help="only the latest-events reads (--types)"
    )
    args = parser.parse_args()

    setup_django()
    from django.core.management import call_command

    from eventlog.manager import get_log_manager

    call_command("init_cassandra")
    manager = get_log_manager()
    type_counts = [int(n) for n in args.types.split(",") if n.strip()]
    if args.only_latest:
        print(f"cpus {os.cpu_count()}, load average {os.getloadavg()}")
        print(HEADER.replace("operation", "operation [Cassandra queries per read]", 1))
        for line in bench_latest(type_counts, args.reads):
            print(line)
        return
    manager.truncate()
    seed(manager, args.seed)
    lines = bench_direct(args.writes, args.reads, args.limit)
    lines += bench_outbox(args.writes)
    lines += bench_latest(type_counts, args.reads)
    if not args.skip_http:
        lines += bench_http(args.writes, args.reads, args.clients, args.workers, args.limit)
    print(
        f"cpus {os.cpu_count()}, gunicorn {args.workers} workers x 4 threads, "
        f"{args.clients} HTTP clients, {args.seed} entries in the 24 h window"
    )
    print(HEADER)
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
