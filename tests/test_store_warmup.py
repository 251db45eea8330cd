"""Issue 15: every gunicorn worker holds fixed store pools from its start (shopsite.warmup), so a
respawned worker holds what the one it replaced held and traffic does not grow them; a worker
started while a store is down still starts and serves, and connects once the store is back.

Connections are counted from `ss` per process id (the worker's sockets to each backend port), and
Redis's own CLIENT LIST is checked to hold the same ones."""

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import redis

from bench.procs import BACKEND_PORTS, children, connections, local_ports
from bench.server import free_port, server_command
from tests import servicectl
from tests.gunicorn_server import ROOT, GunicornServer

MANAGE = [sys.executable, str(ROOT / "manage.py")]
MONGO_POOL, REDIS_POOL = 3, 2
POOLS = {"MONGODB_POOL_SIZE": str(MONGO_POOL), "REDIS_POOL_SIZE": str(REDIS_POOL)}
# An endpoint that does not need the store that is down.
OTHER = {"mongodb": "/logs/?event_type=order_created&hours=1&limit=5", "cassandra": "/products/"}


def expected(held: dict[str, int], redis_pool: int = REDIS_POOL) -> bool:
    """A full set: both Redis pools (ours and Django cache's), MongoDB's pool plus its monitor
    connection(s), Cassandra's one connection per host plus the control connection."""
    return (
        held["redis"] == 2 * redis_pool
        and MONGO_POOL + 1 <= held["mongodb"] <= MONGO_POOL + 2
        and held["cassandra"] == 2
    )


def wait_for(condition, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.25)


def workers_of(arbiter: subprocess.Popen, count: int) -> list[int]:
    return wait_for(
        lambda: (pids := children(arbiter.pid)) and len(pids) == count and pids,
        what=f"{count} gunicorn workers",
    )


def full_sets(pids: list[int]) -> dict[int, dict[str, int]]:
    """Each worker's connections, once every one holds its full set."""

    def ready():
        held = connections(pids)
        return held if all(expected(held[pid]) for pid in pids) else None

    return wait_for(ready, what=f"full connection sets in {pids} (last: {connections(pids)})")


def start_quiet(env: dict, workers: int) -> tuple[subprocess.Popen, str]:
    """gunicorn that nobody has sent a request to (bench.server.start_gunicorn asks /healthz)."""
    port = free_port()
    process = subprocess.Popen(server_command("gthread", port, workers), cwd=ROOT, env=env)
    return process, f"http://127.0.0.1:{port}"


@pytest.fixture
def quiet_server(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "shopsite.settings_test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'django.sqlite3'}",
        "LOG_LEVEL": "WARNING",
        **POOLS,
    }
    process, url = start_quiet(env, 2)
    yield process, url
    process.terminate()
    process.wait(timeout=20)


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=10).status_code == 200
    except httpx.TransportError:
        return False


def test_workers_hold_fixed_pools_from_start_after_respawn_and_under_load(quiet_server):
    arbiter, url = quiet_server
    pids = workers_of(arbiter, 2)
    before = full_sets(pids)  # no request sent yet
    # Redis itself lists the same connections (its side of them).
    server = redis.Redis(port=BACKEND_PORTS["redis"])
    listed = {int(c["addr"].rsplit(":", 1)[1]) for c in server.client_list()}
    for pid in pids:
        assert local_ports(pid, BACKEND_PORTS["redis"]) <= listed

    os.kill(pids[0], signal.SIGKILL)
    replaced = wait_for(
        lambda: (now := children(arbiter.pid)) and len(now) == 2 and pids[0] not in now and now,
        what="the killed worker's replacement",
    )
    after = full_sets(replaced)
    assert after[pids[1]] == before[pids[1]]
    (newcomer,) = set(replaced) - {pids[1]}
    assert after[newcomer] == before[pids[0]]  # what the killed one held

    # 16 concurrent clients through both workers: the pools stay their size.
    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(lambda _: httpx.get(url + "/healthz", timeout=30), range(64)))
    assert {r.status_code for r in statuses} == {200}
    assert connections(replaced) == after


def test_the_event_worker_holds_fixed_pools_from_start(tmp_path):
    # Its three threads (outbox loop, recovery, summaries) may each hold a Redis connection.
    env = {
        **GunicornServer(tmp_path).env,
        **POOLS,
        "REDIS_POOL_SIZE": "4",
        "EVENT_SPOOL_DIR": str(tmp_path / "spool"),
    }
    worker = subprocess.Popen([*MANAGE, "eventlog_worker"], cwd=ROOT, env=env)
    try:
        wait_for(
            lambda: expected(connections([worker.pid])[worker.pid], redis_pool=4),
            what="the event worker's connections",
        )
        time.sleep(2)  # its periodic tasks ran: nothing opened past the pools
        assert expected(connections([worker.pid])[worker.pid], redis_pool=4)
    finally:
        worker.terminate()
        worker.wait(timeout=60)


@pytest.mark.fault
@pytest.mark.parametrize("store", ["mongodb", "redis", "cassandra"])
def test_a_worker_started_while_a_store_is_down_serves_then_connects(
    tmp_path, store, cassandra_keyspace, _mongo_session
):
    servicectl.require(store)
    server = GunicornServer(tmp_path, workers=1, env=POOLS)
    server.prepare()
    try:
        with servicectl.stopped(store):
            server.process, server.url = start_quiet(server.env, 1)
            wait_for(lambda: answers(server.url + "/docs"), what="the server")
            (worker,) = workers_of(server.process, 1)
            health = httpx.get(server.url + "/healthz", timeout=30)
            assert health.status_code == 503
            assert health.json()[store]["ok"] is False
            others = {"mongodb", "redis", "cassandra"} - {store}
            assert all(health.json()[name]["ok"] for name in others)
            if store in OTHER:  # (every authenticated call needs Redis: bearer tokens)
                server.login()
                answer = httpx.get(server.url + OTHER[store], headers=server.auth, timeout=30)
                assert answer.status_code == 200
            assert connections([worker])[worker][store] == 0
            assert server.process.poll() is None
        # Back: MongoDB's client refills its pool by itself; Redis and Cassandra connect on use.
        if store != "mongodb":
            wait_for(
                lambda: httpx.get(server.url + "/healthz", timeout=30).status_code == 200,
                timeout=60,
                what="/healthz ok again",
            )
        # Redis reopens only the connections used; the others their full set.
        wanted = (lambda h: h["redis"] > 0) if store == "redis" else expected
        wait_for(
            lambda: wanted(connections([worker])[worker]),
            timeout=60,
            what=f"the worker's {store} connections",
        )
        assert children(server.process.pid) == [worker]  # the same worker, never restarted
    finally:
        server.__exit__(None, None, None)
