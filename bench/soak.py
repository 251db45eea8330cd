"""Soak: the load mix for N minutes while processes die, then an exact stock/sales reconciliation.

    .venv/bin/python -m bench.soak --minutes 10 --clients 50

It RESTARTS CASSANDRA (scripts/services.sh stop/start): run it against a private set of
services (SHOPSITE_STATE and the *_PORT variables, as scripts/services.sh reads them), or pass
--allow-shared-services on a machine of your own.

Chaos (none with --steady): a gunicorn worker is SIGKILLed every --kill-every seconds (the
arbiter starts a new one), the event worker (outbox + purchase recovery) is SIGKILLed once and
started again 2 s later, and Cassandra is stopped and started once. Reports per minute:
requests, errors (5xx and dropped connections), errors not explained by a kill or the Cassandra
restart, p50/p99; resident memory per role and backend connections per role every minute, minute
2 against the end with PASS/FAIL at 10% (bench/soak_resources.py); and at the end: stock + sold
= initial for every product, no purchase intent left, exactly one order_created event per stored
order.
"""

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import httpx

from bench.load import pick_request, seed
from bench.procs import children
from bench.reconcile import INITIAL_STOCK, reconcile
from bench.server import (
    PASSWORD,
    ROOT,
    USERNAME,
    bench_env,
    percentile,
    prepare,
    setup_django,
    start_gunicorn,
)
from bench.soak_resources import SAMPLE_LEAD_SECONDS, comparison, sample_minute
from bench.soak_resources import report as resources_report

# An error this soon after a kill (or during the Cassandra restart) is the kill's.
EXPLAINED_AFTER_KILL_SECONDS = 10.0
EXPLAINED_AFTER_RESTART_SECONDS = 20.0


# --- processes ------------------------------------------------------------------------------------
class Processes:
    def __init__(self, env: dict, workers: int):
        self.env = env
        self.url, self.gunicorn = start_gunicorn(env, workers=workers, threads=4)
        self.event_worker = self._start_event_worker()

    def _start_event_worker(self) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "eventlog_worker"], cwd=ROOT, env=self.env
        )

    def gunicorn_workers(self) -> list[int]:
        return children(self.gunicorn.pid)

    def kill_gunicorn_worker(self) -> int | None:
        workers = self.gunicorn_workers()
        if not workers:
            return None
        victim = random.choice(workers)
        os.kill(victim, signal.SIGKILL)
        return victim

    def kill_event_worker(self) -> None:
        self.event_worker.kill()
        self.event_worker.wait()

    def restart_event_worker(self) -> None:
        self.event_worker = self._start_event_worker()

    def resources(self) -> dict:
        return sample_minute(self.gunicorn.pid, lambda: self.event_worker.pid)

    def stop(self) -> None:
        for process in (self.event_worker, self.gunicorn):
            process.terminate()
        for process in (self.event_worker, self.gunicorn):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def services(action: str, name: str) -> None:
    subprocess.run(["bash", str(ROOT / "scripts" / "services.sh"), action, name], check=True)


# --- the run --------------------------------------------------------------------------------------
class Soak:
    def __init__(self, args, procs: Processes):
        self.args = args
        self.procs = procs
        self.started = time.monotonic()
        self.records: list[tuple[float, str, int, float]] = []
        self.chaos: list[tuple[float, str]] = []
        self.windows: list[tuple[float, float]] = []  # spans where errors are explained
        self.samples: dict[int, dict] = {}
        self.stop = threading.Event()

    def now(self) -> float:
        return time.monotonic() - self.started

    def note(self, what: str) -> None:
        self.chaos.append((self.now(), what))
        print(f"[{self.now():6.1f}s] {what}", flush=True)

    def sample_loop(self) -> None:
        """Minute k's resources just before its end, where the default --kill-every kills: the
        same phase of every minute (bench/soak_resources.py)."""
        self.samples[0] = self.procs.resources()
        for minute in range(1, self.args.minutes + 1):
            at = minute * 60 - SAMPLE_LEAD_SECONDS
            if self.stop.wait(max(0.0, at - self.now())):
                return
            self.samples[minute] = self.procs.resources()

    def chaos_loop(self) -> None:
        args = self.args
        duration = args.minutes * 60
        next_kill = float("inf") if args.steady else args.kill_every
        event_worker_at = None if args.steady else duration * 0.25
        cassandra_at = None if args.no_cassandra_restart or args.steady else duration * 0.45
        restart = None
        while not self.stop.is_set():
            t = self.now()
            if t >= next_kill:
                victim = self.procs.kill_gunicorn_worker()
                self.windows.append((t - 1, t + EXPLAINED_AFTER_KILL_SECONDS))
                self.note(f"SIGKILL gunicorn worker {victim}")
                next_kill += args.kill_every
            if event_worker_at is not None and t >= event_worker_at:
                self.procs.kill_event_worker()
                self.note("SIGKILL event worker")
                time.sleep(2)
                self.procs.restart_event_worker()
                self.note("event worker started again")
                event_worker_at = None
            if cassandra_at is not None and t >= cassandra_at:
                cassandra_at = None
                # In its own thread: the kills go on while Cassandra starts (a minute or more).
                restart = threading.Thread(target=self.restart_cassandra, name="cassandra")
                restart.start()
            self.stop.wait(0.2)
        if restart is not None:
            restart.join()

    def restart_cassandra(self) -> None:
        begin = self.now()
        self.windows.append((begin - 1, float("inf")))  # until it is back
        self.note("stopping Cassandra")
        services("stop", "cassandra")
        services("start", "cassandra")
        end = self.now()
        self.windows[self.windows.index((begin - 1, float("inf")))] = (
            begin - 1,
            end + EXPLAINED_AFTER_RESTART_SECONDS,
        )
        self.note(f"Cassandra started again ({end - begin:.0f} s)")

    async def load(self, token: str, product_ids: list[str]) -> None:
        clients = self.args.clients
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        headers = {"Authorization": f"Bearer {token}"}
        deadline = self.args.minutes * 60
        async with httpx.AsyncClient(
            base_url=self.procs.url, headers=headers, limits=limits, timeout=30
        ) as client:

            async def worker():
                while self.now() < deadline:
                    label, method, path, body = pick_request(product_ids)
                    started = time.perf_counter()
                    try:
                        code = (await client.request(method, path, json=body)).status_code
                    except httpx.HTTPError:
                        code = 0
                    ms = (time.perf_counter() - started) * 1000
                    self.records.append((self.now(), label, code, ms))

            await asyncio.gather(*(worker() for _ in range(clients)))

    def explained(self, t: float) -> bool:
        return any(start <= t <= end for start, end in self.windows)

    def unexplained(self) -> list[tuple[float, str, int]]:
        """(second, request, status) of every error outside the kill/restart windows."""
        return [
            (round(r[0], 1), r[1], r[2])
            for r in self.records
            if (r[2] == 0 or r[2] >= 500) and not self.explained(r[0])
        ]

    def minute_table(self) -> list[dict]:
        rows = []
        for minute in range(self.args.minutes):
            batch = [r for r in self.records if minute * 60 <= r[0] < (minute + 1) * 60]
            errors = [r for r in batch if r[2] == 0 or r[2] >= 500]
            latencies = [r[3] for r in batch]
            events = [w for t, w in self.chaos if minute * 60 <= t < (minute + 1) * 60]
            rows.append(
                {
                    "minute": minute + 1,
                    "requests": len(batch),
                    "errors": len(errors),
                    "unexplained_errors": sum(1 for r in errors if not self.explained(r[0])),
                    "p50_ms": round(percentile(latencies, 50), 1),
                    "p99_ms": round(percentile(latencies, 99), 1),
                    "chaos": "; ".join(events),
                }
            )
        return rows


def print_report(soak: Soak, result: dict) -> None:
    print()
    print(
        f"{'min':>3} {'requests':>8} {'errors':>6} {'unexpl.':>7} {'p50 ms':>8} {'p99 ms':>8}"
        "  chaos"
    )
    for row in soak.minute_table():
        print(
            f"{row['minute']:3d} {row['requests']:8d} {row['errors']:6d} "
            f"{row['unexplained_errors']:7d} {row['p50_ms']:8.1f} {row['p99_ms']:8.1f}  "
            f"{row['chaos']}"
        )
    codes: dict[int, int] = defaultdict(int)
    for record in soak.records:
        codes[record[2]] += 1
    print("status codes (0 = dropped connection):", dict(sorted(codes.items())))
    print("errors outside the kill/restart windows (s, request, status):", soak.unexplained())
    print()
    print("\n".join(resources_report(soak.samples)))
    print("\nreconciliation:", json.dumps(result, indent=2, default=str))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--products", type=int, default=50)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--kill-every", type=float, default=60.0, help="seconds")
    parser.add_argument("--no-cassandra-restart", action="store_true")
    parser.add_argument(
        "--steady",
        action="store_true",
        help="no kill and no restart: steady traffic, for the throughput and memory slopes",
    )
    parser.add_argument("--allow-shared-services", action="store_true")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if not (args.no_cassandra_restart or args.steady) and not (
        os.environ.get("SHOPSITE_STATE") or args.allow_shared_services
    ):
        raise SystemExit(
            "bench.soak restarts Cassandra: point it at private services (SHOPSITE_STATE and the "
            "*_PORT variables of scripts/services.sh) or pass --allow-shared-services"
        )

    random.seed(11)
    env = bench_env()
    prepare(env)
    setup_django()
    from shopsite.timeutil import utcnow

    since = utcnow() - timedelta(seconds=1)
    procs = Processes(env, args.workers)
    try:
        login = httpx.post(
            procs.url + "/auth/login/", json={"username": USERNAME, "password": PASSWORD}
        )
        login.raise_for_status()
        token = login.json()["session_token"]

        async def seeded():
            async with httpx.AsyncClient(
                base_url=procs.url, headers={"Authorization": f"Bearer {token}"}, timeout=60
            ) as client:
                return await seed(client, args.products, stock=INITIAL_STOCK)

        product_ids = asyncio.run(seeded())
        soak = Soak(args, procs)
        chaos = threading.Thread(target=soak.chaos_loop, name="chaos", daemon=True)
        sampler = threading.Thread(target=soak.sample_loop, name="resources", daemon=True)
        chaos.start()
        sampler.start()
        asyncio.run(soak.load(token, product_ids))
        sampler.join(timeout=SAMPLE_LEAD_SECONDS + 5)  # the last minute's sample
        soak.stop.set()
        chaos.join()
        result = reconcile(product_ids, since, timeout=180)
    finally:
        procs.stop()
    print_report(soak, result)
    if args.json:
        figures = {
            "minutes": soak.minute_table(),
            "resources": soak.samples,
            "resources_minute_2_vs_end": comparison(soak.samples),
            "chaos": soak.chaos,
            "unexplained_errors": soak.unexplained(),
            "reconciliation": result,
        }
        Path(args.json).write_text(json.dumps(figures, indent=2, default=str))
    if not result["exact"]:
        raise SystemExit("reconciliation is NOT exact")


if __name__ == "__main__":
    main()
