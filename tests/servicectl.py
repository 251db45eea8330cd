"""Stop and start the real backend services (fault tests) through scripts/services.sh."""

import contextlib
import os
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "services.sh"
PORTS = {
    "redis": int(os.environ.get("REDIS_PORT", 6379)),
    "mongodb": int(os.environ.get("MONGODB_PORT", 27017)),
    "cassandra": int(os.environ.get("CASSANDRA_PORT", 9042)),
    "postgres": int(os.environ.get("POSTGRES_PORT", 5433)),
}
# The backend the app sees fail when a service stops: FerretDB (mongodb) stores in postgres.
APP_BACKEND = {"postgres": "mongodb"}


def app_backend(name: str) -> str:
    return APP_BACKEND.get(name, name)


def require(name: str) -> None:
    """Skip a test of a service this setup does not run (no PostgreSQL under real MongoDB)."""
    import pytest

    if not answers(name):
        pytest.skip(f"{name} is not running here (127.0.0.1:{PORTS[name]})")


def answers(name: str, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", PORTS[name]), timeout=timeout):
            return True
    except OSError:
        return False


def stop(name: str) -> None:
    subprocess.run(["bash", str(SCRIPT), "stop", name], check=True, timeout=120)
    deadline = time.monotonic() + 30
    while answers(name) and time.monotonic() < deadline:
        time.sleep(0.2)
    if answers(name):
        raise RuntimeError(f"{name} still answers after stop (was it started by services.sh?)")


def start(name: str) -> None:
    subprocess.run(["bash", str(SCRIPT), "start", name], check=True, timeout=300)


def wait_usable(name: str, timeout: float = 60) -> None:
    """Wait until this process's own client can use the service again: a client reconnects a
    moment after the port reopens (Cassandra's driver retries the host once a second)."""
    from shopsite.health import CHECKS

    deadline = time.monotonic() + timeout
    while True:
        try:
            CHECKS[app_backend(name)]()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.25)


@contextlib.contextmanager
def stopped(name: str):
    """Stop a real service for the duration of the block; always start it again, and leave it
    usable for the next test."""
    stop(name)
    try:
        yield
    finally:
        start(name)
        wait_usable(name)
