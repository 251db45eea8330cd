"""Framework overhead: shopsite's cheap endpoints against a minimal FastAPI peer (bench/peer/).

    .venv/bin/python -m bench.overhead                      # 15 s phases, 1 and 16 clients
    .venv/bin/python -m bench.overhead --seconds 3 --rounds 1   # a quick check
    .venv/bin/python -m bench.overhead --peer faithful      # against the purchase's copy

The peer is seed-style by default (bench/peer/seed.py: lock, guarded `$inc`, insert, `XADD`: what
the original shop did, the yardstick of issue 27), or `--peer faithful` (bench/peer/app.py: the
same store work as shopsite's purchase, so the ratio is the framework's share alone).

Both servers run 3 worker processes serving 4 requests at once each (`--threads`: gunicorn's
threads, the peer's thread pool) over the same bench database, Redis db, session (one bearer
token, logged in through shopsite) and outbox stream, doing the same store work per request;
each phase's orders are for a customer of its own.
For each request kind and client count the two run alternately (shopsite first in odd rounds,
the peer first in even ones), and the figures are summed over the rounds. `POST /orders/` runs
twice: with no outbox worker (events pile up in the stream, then are dropped) and with
`manage.py eventlog_worker` running (its backlog dropped first), where the worker's CPU and the
stores' CPU per order are reported too. Before every purchase phase what earlier phases left
(purchases to settle, sales ledger entries to fold) is done, unmeasured (drain_backlog). CPU is read
from /proc for each process tree; the stores are shared, so their CPU includes whatever else the
machine runs (point REDIS_PORT, MONGODB_URI/MONGODB_PORT, POSTGRES_PORT and CASSANDRA_PORT at a
private set of services for clean store figures).
"""

import argparse
import asyncio
import contextlib
import itertools
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

import httpx

from bench.server import (
    BENCH_ENV,
    PASSWORD,
    ROOT,
    SERVERS,
    USERNAME,
    bench_env,
    free_port,
    http_phase,
    production_server,
    setup_django,
    wait_ready,
)

KINDS = ("product", "products_category", "session", "order_paused", "order_running")
LABELS = {
    "product": "`GET /products/{id}/`",
    "products_category": "`GET /products/?category=` (a page of 50)",
    "session": "`PUT /session/{id}/`",
    "order_paused": "`POST /orders/`, outbox worker paused",
    "order_running": "`POST /orders/`, outbox worker running",
}
PRODUCTS = 64  # orders pick one at random: little lock contention, the same for both apps
# The seeded products' category: this run's own, so a page of it is the same whatever earlier
# runs left in the bench database.
CATEGORY = f"bench-{os.getpid()}"
PEERS = {"seed": "bench.peer.seed:app", "faithful": "bench.peer.app:app"}
CLOCK = os.sysconf("SC_CLK_TCK")


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and its live children."""
    total = 0.0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            with open(f"/proc/{current}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLOCK
            with open(f"/proc/{current}/task/{current}/children") as handle:
                pids.extend(int(child) for child in handle.read().split())
        except FileNotFoundError:
            continue
    return total


def store_pids() -> dict[str, int]:
    """Processes listening on the stores' ports (Redis, MongoDB protocol, FerretDB's PostgreSQL,
    Cassandra) by store; their children (PostgreSQL's backends) count with them."""
    ports = {
        int(os.environ.get("REDIS_PORT", 6379)): "redis",
        int(os.environ.get("MONGODB_PORT", 27017)): "mongodb",
        int(os.environ.get("POSTGRES_PORT", 5433)): "postgres",
        int(os.environ.get("CASSANDRA_PORT", 9042)): "cassandra",
    }
    out = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True).stdout
    pids = {}
    for line in out.splitlines():
        parts = line.split()
        port = int(parts[3].rsplit(":", 1)[1])
        if port in ports and "pid=" in line:
            pids[ports[port]] = int(line.split("pid=", 1)[1].split(",", 1)[0])
    return pids


@dataclass
class Totals:
    requests: int = 0
    seconds: float = 0.0
    cpu: float = 0.0
    errors: int = 0
    worker_cpu: float = 0.0
    store_cpu: float = 0.0
    store_cpu_by: dict = field(default_factory=dict)
    statuses: dict = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def ms_per_request(self, cpu: float) -> float:
        return 1000 * cpu / self.requests if self.requests else float("nan")


@contextlib.contextmanager
def peer_server(workers: int, threads: int, peer: str = "seed"):
    port = free_port()
    cmd = [
        sys.executable, "-m", "uvicorn", PEERS[peer], "--host", "127.0.0.1",
        "--port", str(port), "--workers", str(workers), "--log-level", "warning",
        "--no-access-log",
    ]  # fmt: skip
    env = {**bench_env(), "PEER_THREADS": str(threads)}
    process = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(url + "/session/0/", process)
        yield url, process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


@contextlib.contextmanager
def outbox_worker(running: bool):
    if not running:
        yield None
        return
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "eventlog_worker"], cwd=ROOT, env=bench_env()
    )
    time.sleep(2)  # started and connected before the phase begins
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def drop_outbox() -> None:
    """The bench's queued events are not needed: drop them so no phase pays for another's."""
    from django.conf import settings

    from shopsite.redis_client import get_redis

    get_redis().delete(settings.EVENT_OUTBOX_STREAM)


def seed_products(url: str, auth: dict) -> list[str]:
    body = [
        {"name": f"Overhead {i}", "category": CATEGORY, "price": "9.99", "stock": 1_000_000_000}
        for i in range(PRODUCTS)
    ]
    response = httpx.post(url + "/products/", json=body, headers=auth, timeout=60)
    response.raise_for_status()
    return [p["id"] for p in response.json()]


def request_maker(kind: str, product_ids: list[str], user_id: str, customer: str):
    if kind == "product":
        return lambda client: client.get(f"/products/{random.choice(product_ids)}/")
    if kind == "products_category":
        return lambda client: client.get("/products/", params={"category": CATEGORY})
    if kind == "session":
        return lambda client: client.put(f"/session/{user_id}/")

    def order(client):
        item = {"product_id": random.choice(product_ids), "quantity": 1}
        return client.post("/orders/", json={"customer": customer, "items": [item]})

    return order


_phases = itertools.count()


def phase_customer() -> str:
    """Each phase's orders go to a customer of their own: the worker's summary refresh re-reads
    a dirty customer's orders, so one bench customer would cost every phase more than the last
    (28k orders: ~5 s of FerretDB CPU per refresh) and the figures would depend on the bench
    database's history."""
    return f"overhead-{os.getpid()}-{next(_phases)}"


def drain_backlog() -> None:
    """Do what earlier phases left to the worker before a phase starts (not measured): the
    purchases to settle (their stock marks) and the dirty sales summaries. Else the first phase
    with a worker (in every round the same app's, after the paused ones) pays for all of them,
    and in paused phases products carry so many marks that shopsite settles them inline."""
    from orders.services import order_intents_recover, sales_summaries_refresh

    while order_intents_recover(older_than_seconds=3600)["settled"]:
        pass
    sales_summaries_refresh()


def run_phase(kind, url, app_pid, auth, clients, seconds, product_ids, user_id) -> Totals:
    drop_outbox()
    if kind.startswith("order"):
        drain_backlog()
    with outbox_worker(kind == "order_running") as worker:
        stores = store_pids() if worker else {}
        cpu0 = tree_cpu(app_pid)
        worker0 = tree_cpu(worker.pid) if worker else 0.0
        stores0 = {name: tree_cpu(pid) for name, pid in stores.items()}
        make = request_maker(kind, product_ids, user_id, phase_customer())
        _, statuses, elapsed = asyncio.run(
            http_phase(url, auth, None, clients, make, seconds=seconds)
        )
        totals = Totals(seconds=elapsed, statuses=statuses)
        totals.cpu = tree_cpu(app_pid) - cpu0
        if worker:
            time.sleep(1)  # the worker finishes what the phase queued
            totals.worker_cpu = tree_cpu(worker.pid) - worker0
            totals.store_cpu_by = {
                name: tree_cpu(pid) - stores0[name] for name, pid in stores.items()
            }
            totals.store_cpu = sum(totals.store_cpu_by.values())
    expected = 201 if kind.startswith("order") else 200
    totals.requests = statuses.get(expected, 0)
    totals.errors = sum(n for code, n in statuses.items() if code != expected)
    return totals


def add(into: Totals, part: Totals) -> None:
    for name in ("requests", "seconds", "cpu", "errors", "worker_cpu", "store_cpu"):
        setattr(into, name, getattr(into, name) + getattr(part, name))
    for name, cpu in part.store_cpu_by.items():
        into.store_cpu_by[name] = into.store_cpu_by.get(name, 0.0) + cpu
    for code, count in part.statuses.items():
        into.statuses[code] = into.statuses.get(code, 0) + count


def load_average() -> str:
    with open("/proc/loadavg") as handle:
        return " ".join(handle.read().split()[:3])


def report(results, client_counts, kinds) -> None:
    print("\n| request | shopsite / peer (req/s) | app CPU per request, shopsite vs peer |")
    print("| --- | --- | --- |")
    for kind in kinds:
        ratios, cpus = [], []
        for clients in client_counts:
            ours, peer = results[(kind, clients, "shopsite")], results[(kind, clients, "peer")]
            ratio = ours.rate / peer.rate if peer.rate else float("nan")
            who = f"{clients} client{'s' if clients > 1 else ''}"
            ratios.append(f"{ratio:.2f} ({who})")
            cpus.append(
                f"{ours.ms_per_request(ours.cpu):.1f} ms vs {peer.ms_per_request(peer.cpu):.1f} ms"
                f" ({clients})"
            )
            if kind == "order_running":
                cpus.append(
                    f"worker: {ours.ms_per_request(ours.worker_cpu):.1f} ms CPU + "
                    f"{ours.ms_per_request(ours.store_cpu):.1f} ms store CPU per order, in the "
                    f"peer's phases {peer.ms_per_request(peer.worker_cpu):.1f} + "
                    f"{peer.ms_per_request(peer.store_cpu):.1f} ms ({clients})"
                )
        print(f"| {LABELS[kind]} | {', '.join(ratios)} | {'; '.join(cpus)} |")
    print("\nstore CPU per order with the worker running, ms (stores shared: see the docstring)")
    for (kind, clients, app), totals in sorted(results.items()):
        if totals.store_cpu_by:
            parts = ", ".join(
                f"{name} {totals.ms_per_request(cpu):.1f}"
                for name, cpu in sorted(totals.store_cpu_by.items())
            )
            print(f"  {kind:14} {clients:3} {app:8} {parts}")
    print("\nraw: request, clients, app, req/s, requests, errors (status counts)")
    for (kind, clients, app), totals in sorted(results.items()):
        print(
            f"  {kind:14} {clients:3} {app:8} {totals.rate:8.1f} {totals.requests:7d} "
            f"{totals.errors:5d} {dict(sorted(totals.statuses.items()))}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="per phase")
    parser.add_argument("--rounds", type=int, default=2, help="alternations per cell")
    parser.add_argument("--clients", default="1,16", help="comma-separated client counts")
    parser.add_argument("--workers", type=int, default=3, help="worker processes per app")
    parser.add_argument(
        "--threads",
        type=int,
        default=4,
        help="requests served at once per worker process, both apps (production: 4)",
    )
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"subset of {','.join(KINDS)}")
    parser.add_argument("--peer", choices=sorted(PEERS), default="seed", help="the peer app")
    parser.add_argument(
        "--server", choices=SERVERS, default=SERVERS[0], help="how shopsite is served"
    )
    parser.add_argument(
        "--redis-db",
        type=int,
        default=None,
        help="Redis db for both apps (default: the benches' own). Sessions are keyed by user id, "
        "so two benches from different checkouts sharing a db end each other's sessions.",
    )
    args = parser.parse_args()
    if args.redis_db is not None:
        BENCH_ENV["REDIS_URL"] = (
            f"redis://127.0.0.1:{os.environ.get('REDIS_PORT', 6379)}/{args.redis_db}"
        )
    client_counts = [int(c) for c in args.clients.split(",")]
    kinds = [k for k in args.kinds.split(",") if k]
    random.seed(17)
    setup_django()
    print(f"load average before: {load_average()}  ({os.cpu_count()} CPUs); peer: {args.peer}")
    with (
        production_server(workers=args.workers, threads=args.threads, kind=args.server) as ours,
        peer_server(args.workers, args.threads, args.peer) as (peer_url, peer_process),
    ):
        # A session of our own (the user id comes with it); both apps check this token.
        login = httpx.post(
            ours.url + "/auth/login/", json={"username": USERNAME, "password": PASSWORD}
        )
        if login.status_code != 200:
            raise SystemExit(f"could not log in to the bench server: {login.status_code}")
        user_id = login.json()["user_id"]
        auth = {"Authorization": f"Bearer {login.json()['session_token']}"}
        product_ids = seed_products(ours.url, auth)
        apps = {"shopsite": (ours.url, ours.process.pid), "peer": (peer_url, peer_process.pid)}
        results: dict = {}
        for kind in kinds:
            for clients in client_counts:
                for round_number in range(args.rounds):
                    order = ["shopsite", "peer"] if round_number % 2 == 0 else ["peer", "shopsite"]
                    for app in order:
                        url, pid = apps[app]
                        part = run_phase(
                            kind, url, pid, auth, clients, args.seconds, product_ids, user_id
                        )
                        add(results.setdefault((kind, clients, app), Totals()), part)
                        print(
                            f"  {kind:14} {clients:3} clients {app:8} {part.rate:8.1f} req/s",
                            flush=True,
                        )
        drop_outbox()
    print(
        f"\nload average after: {load_average()}; {args.seconds:g} s phases, {args.rounds} rounds"
    )
    report(results, client_counts, kinds)


if __name__ == "__main__":
    main()
