"""Redis primary + replica + 3 Sentinels: the primary is killed (SIGKILL) during a stream of
authenticated requests, orders and logins against a gunicorn instance configured with
REDIS_SENTINELS; the Sentinels promote the replica and the service keeps answering.

Measured: requests that failed during the switch, how long until every request succeeded again,
and which sessions written in the last second before the kill survived (replication is
asynchronous: a write the primary acknowledged but had not yet sent to the replica is lost).
"""

import os
import signal
import threading
import time
from collections import Counter

import httpx
import pytest
import redis
from django.conf import settings
from django_redis.cache import RedisCache

from bench.server import bench_env, manage, production_server
from shopsite.redis_client import cache_settings

from .conftest import cluster, node_pid, write_artifact

pytestmark = [pytest.mark.cluster]

USERS = 400
USER_PASSWORD = "failover-" + "pass-" + "0123456789"
INITIAL_STOCK = 1_000_000
RUN_BEFORE_KILL, RUN_AFTER_KILL = 4.0, 14.0


def sentinel_master(env: dict) -> redis.Redis:
    sentinels = [(h, int(p)) for h, p in (s.split(":") for s in env["REDIS_SENTINELS"].split(","))]
    return redis.sentinel.Sentinel(sentinels, socket_timeout=1).master_for(
        env["REDIS_SENTINEL_MASTER"], socket_timeout=1, decode_responses=True
    )


def primary_port(env: dict) -> int | None:
    """The primary's port as the first answering Sentinel reports it."""
    for item in env["REDIS_SENTINELS"].split(","):
        host, port = item.split(":")
        sentinel = redis.Redis(host=host, port=int(port), socket_timeout=1, decode_responses=True)
        try:
            addr = sentinel.execute_command(
                "SENTINEL", "GET-MASTER-ADDR-BY-NAME", env["REDIS_SENTINEL_MASTER"]
            )
        except redis.RedisError:
            continue
        finally:
            sentinel.close()
        if addr:
            return int(addr[1])
    return None


@pytest.fixture
def sentinel_web(cluster_part, tmp_path, mongo, cassandra_keyspace):
    env = cluster_part("redis")
    sentinel_master(env).flushdb()
    web_env = {
        "DJANGO_SETTINGS_MODULE": "shopsite.settings_test",
        "SHOPSITE_TEST_ID": settings.TEST_ID,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'web.sqlite3'}",
        "LOG_LEVEL": "ERROR",
        # Sentinel mode: the URL gives only the db number.
        "TEST_REDIS_URL": "redis://sentinel/0",
        "REDIS_SENTINELS": env["REDIS_SENTINELS"],
        "REDIS_SENTINEL_MASTER": env["REDIS_SENTINEL_MASTER"],
    }
    with production_server(workers=2, threads=8, env=web_env) as server:
        script = (
            "from django.contrib.auth.hashers import make_password;"
            "from django.contrib.auth.models import User;"
            f"h = make_password({USER_PASSWORD!r});"
            "User.objects.bulk_create([User(username=f'fo-{i}', password=h, is_staff=True) "
            f"for i in range({USERS})], ignore_conflicts=True)"
        )
        manage("shell", "-c", script, env={**bench_env(), **web_env})
        yield server, env


def django_cache_works(env: dict) -> bool:
    """Django's cache (and so its cookie sessions), configured as settings does, on the primary."""
    conf = cache_settings(
        "redis://sentinel/0",
        sentinels=env["REDIS_SENTINELS"],
        master=env["REDIS_SENTINEL_MASTER"],
        sentinel_password="",
        timeout=2,
        failover_wait=3,
        pool_size=4,
    )
    cache = RedisCache(conf["LOCATION"], {"OPTIONS": conf["OPTIONS"], "KEY_PREFIX": "django"})
    value = {"written": time.time()}
    cache.set("sentinel-probe", value)
    try:
        return cache.get("sentinel-probe") == value and bool(
            sentinel_master(env).exists("django:1:sentinel-probe")
        )
    finally:
        cache.close()


class Stream:
    """Requests from several threads until stopped; each result is (start, end, kind, status)."""

    def __init__(self, server, product_id: str):
        self.server, self.product_id = server, product_id
        self.stop = threading.Event()
        self.results: list[tuple[float, float, str, int]] = []
        self.logins: list[tuple[float, int, str | None]] = []  # (acknowledged at, user, token)

    def _call(self, client: httpx.Client, kind: str, method: str, path: str, **kw):
        t0 = time.monotonic()
        try:
            response = client.request(method, path, **kw)
            code = response.status_code
        except httpx.HTTPError:
            response, code = None, 0
        self.results.append((t0, time.monotonic(), kind, code))
        return response

    def orders(self):
        with httpx.Client(base_url=self.server.url, headers=self.server.auth, timeout=30) as c:
            n = 0
            while not self.stop.is_set():
                n += 1
                body = {
                    "customer": f"Failover {n}",
                    "items": [{"product_id": self.product_id, "quantity": 1}],
                }
                self._call(c, "order", "POST", "/orders/", json=body)
                self._call(c, "read", "GET", f"/products/{self.product_id}/")

    def logins_(self):
        with httpx.Client(base_url=self.server.url, timeout=30) as c:
            for i in range(USERS):
                if self.stop.is_set():
                    return
                r = self._call(
                    c,
                    "login",
                    "POST",
                    "/auth/login/",
                    json={"username": f"fo-{i}", "password": USER_PASSWORD},
                )
                ok = r is not None and r.status_code == 200
                self.logins.append((time.monotonic(), i, r.json()["session_token"] if ok else None))
                time.sleep(0.02)


def test_primary_killed_during_traffic_fails_over_and_keeps_answering(sentinel_web):
    server, env = sentinel_web
    old_port = primary_port(env)
    # The node started as primary is the one the Sentinels report (a fresh cluster).
    assert redis.Redis(port=old_port).info("server")["process_id"] == node_pid("redis-primary")
    product = httpx.post(
        f"{server.url}/products/",
        headers=server.auth,
        json={
            "name": "Failover lamp",
            "category": "scale",
            "price": "3.00",
            "stock": INITIAL_STOCK,
        },
    ).json()

    assert django_cache_works(env)
    stream = Stream(server, product["id"])
    threads = [threading.Thread(target=stream.orders) for _ in range(3)]
    threads.append(threading.Thread(target=stream.logins_))
    for t in threads:
        t.start()
    time.sleep(RUN_BEFORE_KILL)
    t_kill = time.monotonic()
    os.kill(node_pid("redis-primary"), signal.SIGKILL)
    promoted_after = None
    while time.monotonic() - t_kill < RUN_AFTER_KILL:
        if promoted_after is None and primary_port(env) not in (None, old_port):
            promoted_after = time.monotonic() - t_kill
        time.sleep(0.05)
    stream.stop.set()
    for t in threads:
        t.join()

    results = stream.results
    before = [r for r in results if r[1] < t_kill]
    failed = [r for r in results if r[3] not in (200, 201)]
    tail = [r for r in results if r[0] > t_kill + RUN_AFTER_KILL - 3]
    # Held: answered, but waited for the promotion (the client retries while it happens).
    held = [r for r in results if r[3] in (200, 201) and r[1] - r[0] > 1.0]
    recovered_after = max((r[1] for r in failed + held), default=t_kill) - t_kill
    slowest = max(r[1] - r[0] for r in results)

    # Sessions acknowledged before the kill: still there on the promoted replica?
    def valid(token: str) -> bool:
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.get(f"{server.url}/products/?page_size=1", headers=headers).status_code == 200

    acked = [(t, token) for t, _, token in stream.logins if token]
    last_second = [token for t, token in acked if t_kill - 1 <= t <= t_kill]
    older = [token for t, token in acked if t < t_kill - 1]
    after = [token for t, token in acked if t > t_kill]
    lost_last_second = [tok for tok in last_second if not valid(tok)]
    lost_older = [tok for tok in older if not valid(tok)]
    lost_after = [tok for tok in after if not valid(tok)]

    # Orders: the stock taken equals the orders stored (none lost or taken twice in the switch).
    placed = sum(1 for r in results if r[2] == "order" and r[3] == 201)
    stock = httpx.get(f"{server.url}/products/{product['id']}/", headers=server.auth).json()[
        "stock"
    ]
    stored = mongo_orders_for(product["id"])

    # The killed node comes back as a replica of the promoted one.
    cluster("start", "redis-primary")
    role = redis.Redis(port=old_port, decode_responses=True).info("replication")["role"]

    kinds = Counter((r[2], r[3]) for r in failed)
    write_artifact(
        "cluster-redis.md",
        "# Redis primary killed (SIGKILL) during traffic; 3 Sentinels, down-after 1000 ms\n\n"
        f"- requests: {len(results)} ({len(before)} before the kill), failed: {len(failed)} "
        f"({', '.join(f'{k} {c}: {n}' for (k, c), n in sorted(kinds.items())) or 'none'})\n"
        f"- requests held over 1 s by the switch (answered): {len(held)}; slowest {slowest:.1f} s\n"
        f"- replica promoted (per Sentinels) {promoted_after or float('nan'):.1f} s after the "
        f"kill; every request answered normally again {recovered_after:.1f} s after it\n"
        f"- sessions acknowledged in the last second before the kill: {len(last_second)}, lost: "
        f"{len(lost_last_second)}; older: {len(older)}, lost: {len(lost_older)}; created after: "
        f"{len(after)}, lost: {len(lost_after)}\n"
        f"- orders placed (201): {placed}; stored: {stored}; stock taken: "
        f"{INITIAL_STOCK - stock}\n"
        f"- the killed node, restarted, is a {role} now\n",
    )
    assert not [r for r in before if r[3] not in (200, 201)], "failures before the kill"
    assert promoted_after is not None, "the Sentinels did not promote the replica"
    assert tail and all(r[3] in (200, 201) for r in tail), "not answering after the failover"
    assert not lost_older and not lost_after
    assert stored == placed == INITIAL_STOCK - stock
    assert valid(server.token), "the long-lived admin session survived"
    assert django_cache_works(env), "Django's cache follows the promoted primary"
    assert role == "slave"


def mongo_orders_for(product_id: str) -> int:
    from shopsite.mongo import get_db

    return get_db()["orders"].count_documents({"items.product_id": product_id})
