"""Session throughput: create / get / touch through HTTP (gunicorn) and directly via SessionManager.

    .venv/bin/python -m bench.bench_sessions --direct-ops 5000 --http-requests 3000 --clients 16

Direct: one thread, then --threads threads, against the bench Redis db. HTTP: --clients concurrent
clients, authenticated by the bench admin's bearer token (so every request also pays for one token
lookup + touch), on POST / GET / PUT /session/{user_id}/ over --users bench staff users.
Also times a few POST /auth/login/ (dominated by the production password hasher).
"""

import argparse
import asyncio
import os
import random
import threading
import time

import httpx

from bench.server import http_phase, manage, percentile, production_server, setup_django

BENCH_USER_PREFIX = "bench-sessions-"
BENCH_USER_PASSWORD = "bench-" + "sessions-" + "pass-0123456789"


def row(label: str, count: int, elapsed: float, latencies_ms: list[float]) -> str:
    return (
        f"{label:<34} {count:>7} {count / elapsed:>10.0f} "
        f"{percentile(latencies_ms, 50):>8.2f} {percentile(latencies_ms, 99):>8.2f}"
    )


HEADER = f"{'operation':<34} {'ops':>7} {'ops/s':>10} {'p50 ms':>8} {'p99 ms':>8}"


def bench_direct(ops: int, threads: int) -> list[str]:
    from sessions_app.manager import SessionManager

    manager = SessionManager()
    user_ids = [f"bench-direct-{i}" for i in range(min(ops, 1000))]
    tokens: dict[str, str] = {}
    lines = []

    def timed(label, func, count):
        latencies = []
        started = time.perf_counter()
        for i in range(count):
            t0 = time.perf_counter()
            func(i)
            latencies.append((time.perf_counter() - t0) * 1000)
        lines.append(row(label, count, time.perf_counter() - started, latencies))

    def create(i):
        uid = user_ids[i % len(user_ids)]
        tokens[uid] = manager.create(uid).session_token

    timed("direct create (replace)", create, ops)
    timed("direct get", lambda i: manager.get(user_ids[i % len(user_ids)]), ops)
    timed("direct touch", lambda i: manager.touch(user_ids[i % len(user_ids)]), ops)
    timed(
        "direct authenticate(token)+touch",
        lambda i: manager.authenticate(tokens[user_ids[i % len(user_ids)]]),
        ops,
    )

    for label, op in [
        ("create", lambda uid: manager.create(uid)),
        ("get", lambda uid: manager.get(uid)),
        ("touch", lambda uid: manager.touch(uid)),
    ]:
        per_thread = ops // threads
        latencies: list[float] = []
        lock = threading.Lock()

        def worker(offset, op=op, per_thread=per_thread, latencies=latencies, lock=lock):
            mine = []
            for i in range(per_thread):
                uid = user_ids[(offset * per_thread + i) % len(user_ids)]
                t0 = time.perf_counter()
                op(uid)
                mine.append((time.perf_counter() - t0) * 1000)
            with lock:
                latencies.extend(mine)

        workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
        started = time.perf_counter()
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()
        elapsed = time.perf_counter() - started
        lines.append(row(f"direct {label}, {threads} threads", len(latencies), elapsed, latencies))

    for uid in user_ids:
        manager.delete(uid)
    return lines


def create_bench_users(count: int) -> None:
    script = (
        "from django.contrib.auth.models import User\n"
        f"for i in range({count}):\n"
        f"    u, _ = User.objects.get_or_create(username={BENCH_USER_PREFIX!r} + str(i))\n"
        "    u.is_staff = True\n"
        f"    u.set_password({BENCH_USER_PASSWORD!r}); u.save()\n"
    )
    manage("shell", "-c", script)


def login_own_admin(url: str) -> str:
    username = f"{BENCH_USER_PREFIX}admin"
    script = (
        "from django.contrib.auth.models import User\n"
        f"u, _ = User.objects.get_or_create(username={username!r})\n"
        "u.is_staff = u.is_superuser = True\n"
        f"u.set_password({BENCH_USER_PASSWORD!r}); u.save()\n"
    )
    manage("shell", "-c", script)
    response = httpx.post(
        url + "/auth/login/", json={"username": username, "password": BENCH_USER_PASSWORD}
    )
    response.raise_for_status()
    return response.json()["session_token"]


def bench_user_ids() -> list[str]:
    from django.contrib.auth.models import User

    return [
        str(pk)
        for pk in User.objects.filter(username__startswith=BENCH_USER_PREFIX)
        .exclude(username=f"{BENCH_USER_PREFIX}admin")
        .values_list("pk", flat=True)
    ]


def session_calls(url, headers, method, user_ids, requests, clients):
    """`requests` calls of METHOD /session/{random bench user}/."""

    def call(client):
        return client.request(method, f"/session/{random.choice(user_ids)}/")

    return http_phase(url, headers, requests, clients, call, timeout=30)


def bench_http(requests: int, clients: int, users: int, workers: int, logins: int) -> list[str]:
    lines = []
    with production_server(workers=workers) as server:
        create_bench_users(users)
        setup_django()
        user_ids = bench_user_ids()
        # Our own admin: one session per user, so sharing bench-admin with a bench running in
        # parallel would end each other's tokens.
        headers = {"Authorization": f"Bearer {login_own_admin(server.url)}"}
        for label, method in [("POST", "POST"), ("GET", "GET"), ("PUT", "PUT")]:
            latencies, statuses, elapsed = asyncio.run(
                session_calls(server.url, headers, method, user_ids, requests, clients)
            )
            bad = {code: n for code, n in statuses.items() if code not in (200, 201)}
            suffix = f"  non-2xx: {bad}" if bad else ""
            lines.append(
                row(f"HTTP {label} /session/{{id}}/", len(latencies), elapsed, latencies) + suffix
            )
        latencies = []
        started = time.perf_counter()
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for i in range(logins):
                t0 = time.perf_counter()
                response = client.post(
                    "/auth/login/",
                    json={
                        "username": f"{BENCH_USER_PREFIX}{i % users}",
                        "password": BENCH_USER_PASSWORD,
                    },
                )
                latencies.append((time.perf_counter() - t0) * 1000)
                if response.status_code != 200:
                    raise SystemExit(f"login failed: {response.status_code} {response.text}")
        lines.append(
            row(
                "HTTP POST /auth/login/ (sequential)",
                logins,
                time.perf_counter() - started,
                latencies,
            )
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--direct-ops", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--http-requests", type=int, default=1000, help="per method")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (x 4 threads)")
    parser.add_argument("--logins", type=int, default=10)
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args()
    random.seed(7)

    lines = []
    if not args.skip_http:
        lines += bench_http(args.http_requests, args.clients, args.users, args.workers, args.logins)
    setup_django()
    lines += bench_direct(args.direct_ops, args.threads)
    print(
        f"cpus {os.cpu_count()}, gunicorn {args.workers} workers x 4 threads, "
        f"{args.clients} HTTP clients"
    )
    print(HEADER)
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
