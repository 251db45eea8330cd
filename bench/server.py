"""Start the production server (gunicorn) for a benchmark, on a free port, with its own data.

with production_server(workers=2) as server:
    token = server.token          # bearer token of a staff+admin bench user
    httpx.get(server.url + "/products/", headers=server.auth)
"""

import asyncio
import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BENCH_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "bench-" + secrets.token_hex(16),
    "STATIC_MANIFEST": "false",
    "SECURE_COOKIES": "false",
    "MONGODB_DB": "shop_bench",
    # REDIS_PORT: a private set of services (scripts/services.sh reads the same variable).
    "REDIS_URL": f"redis://127.0.0.1:{os.environ.get('REDIS_PORT', '6379')}/8",
    "CASSANDRA_KEYSPACE": "shopsite_bench",
    "DATABASE_URL": f"sqlite:///{ROOT / '.services' / 'bench.sqlite3'}",
    "LOG_LEVEL": "WARNING",
    # The benchmark logs in many times from one address.
    "LOGIN_MAX_FAILURES_PER_ADDRESS": "100000",
}
# One user per run: sessions are one per user, so parallel runs would end each other's tokens.
USERNAME, PASSWORD = f"bench-admin-{os.getpid()}", "bench-" + "pass-" + "0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_env() -> dict[str, str]:
    env = {**os.environ, **BENCH_ENV}
    env.setdefault("DJANGO_SETTINGS_MODULE", "shopsite.settings")
    return env


def setup_django() -> None:
    """Django in this process, with the bench settings (for the direct, no-HTTP measurements)."""
    from django.apps import apps

    if apps.ready:
        return
    os.environ.update(BENCH_ENV)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopsite.settings")
    import django

    django.setup()


def manage(*args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], env=env or bench_env(), check=True
    )


def prepare(env: dict[str, str] | None = None) -> None:
    """Migrate, create indexes and keyspace, and the bench admin user."""
    manage("migrate", "--noinput", "-v", "0", env=env)
    manage("init_mongo", env=env)
    manage("init_cassandra", env=env)
    script = (
        "from django.contrib.auth.models import User;"
        f"u, _ = User.objects.get_or_create(username={USERNAME!r});"
        "u.is_staff = u.is_superuser = True;"
        f"u.set_password({PASSWORD!r}); u.save()"
    )
    manage("shell", "-c", script, env=env)


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    token: str = ""
    auth: dict = field(default_factory=dict)


SERVERS = ("gthread", "uvicorn")


def server_command(kind: str, port: int, workers: int, threads: int = 4) -> list[str]:
    """gunicorn as production runs it; `gthread` is the WSGI thread worker, `uvicorn` Django's
    ASGI handler under uvicorn workers (bench/overhead.py --server compares them)."""
    cmd = [
        sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--log-level", "warning",
    ]  # fmt: skip
    if kind == "gthread":
        return [
            *cmd,
            "--worker-class",
            "shopsite.gunicorn_worker.JSONErrorThreadWorker",  # gthread, JSON refusals
            "--threads",
            str(threads),
            "shopsite.wsgi:application",
        ]
    if kind == "uvicorn":
        return [*cmd, "--worker-class", "uvicorn_worker.UvicornWorker", "shopsite.asgi:application"]
    raise ValueError(f"unknown server {kind!r}: one of {SERVERS}")


def wait_ready(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    """Until `url` answers anything (or the process died: RuntimeError)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise RuntimeError(f"server for {url} did not start")
        time.sleep(0.2)


def start_gunicorn(
    env: dict, *, workers: int, threads: int, kind: str = "gthread"
) -> tuple[str, subprocess.Popen]:
    """gunicorn on a free port with the given environment, once it answers /healthz."""
    port = free_port()
    process = subprocess.Popen(server_command(kind, port, workers, threads), cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    wait_ready(url + "/healthz", process)
    return url, process


@contextlib.contextmanager
def production_server(
    workers: int = 2, threads: int = 4, env: dict[str, str] | None = None, kind: str = "gthread"
):
    """`env` replaces settings of the bench environment (tests point it at their own stores)."""
    env = {**bench_env(), **(env or {})}
    prepare(env)
    url, process = start_gunicorn(env, workers=workers, threads=threads, kind=kind)
    server = Server(url=url, process=process)
    try:
        login = httpx.post(
            server.url + "/auth/login/", json={"username": USERNAME, "password": PASSWORD}
        )
        if login.status_code == 200:
            server.token = login.json()["session_token"]
            server.auth = {"Authorization": f"Bearer {server.token}"}
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


async def http_phase(
    url, headers, requests: int | None, clients: int, make_request, timeout=60, seconds=None
):
    """Send `requests` calls of make_request(client) over `clients` concurrent connections
    (with `seconds`: stop then; requests=None: as many as fit in that time).
    Returns (latencies in ms, {status: count} with 0 for transport errors, elapsed seconds)."""
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    remaining = float("inf") if requests is None else requests
    deadline = float("inf") if seconds is None else time.perf_counter() + seconds
    async with httpx.AsyncClient(
        base_url=url, headers=headers, limits=limits, timeout=timeout
    ) as client:

        async def worker():
            nonlocal remaining
            while remaining > 0 and time.perf_counter() < deadline:
                remaining -= 1
                t0 = time.perf_counter()
                try:
                    code = (await make_request(client)).status_code
                except httpx.HTTPError:
                    code = 0
                latencies.append((time.perf_counter() - t0) * 1000)
                statuses[code] = statuses.get(code, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return latencies, statuses, elapsed


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]
