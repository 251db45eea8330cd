"""Open a long-running process's store connections at its start: each gunicorn worker
(shopsite.gunicorn_worker) and the event worker call warm_up() once.

Built lazily, a client's connections follow the traffic a process happened to see: a worker
respawned seconds ago held fewer than the one it replaced, and pools grew with concurrency. Warmed
up, every process holds its fixed pools (MONGODB_POOL_SIZE, REDIS_POOL_SIZE, one Cassandra
connection per host) from the start. A store that is down must not stop the process: its failure
is logged (the store and the error's type; messages may carry addresses) and the client connects
on first use, as without a warm-up (MongoDB's client also refills its pool by itself once the
server answers).
"""

import logging
import threading
import time

from django.conf import settings

logger = logging.getLogger(__name__)


def _stores() -> dict:
    from . import cassandra_client, mongo, redis_client

    return {"mongodb": mongo.warm, "redis": redis_client.warm, "cassandra": cassandra_client.warm}


def warm_up() -> dict[str, bool]:
    """Warm every store in parallel, waiting at most about two backend timeouts; returns which
    were reached. Never raises."""
    results: dict[str, bool] = {}

    def one(name, warm):
        started = time.monotonic()
        try:
            warm()
        except Exception as exc:
            logger.warning(
                "store warm-up: %s not reachable (%s); it connects on first use",
                name,
                type(exc).__name__,
            )
            results[name] = False
            return
        results[name] = True
        logger.info("store warm-up: %s ready in %.0f ms", name, (time.monotonic() - started) * 1e3)

    threads = [
        threading.Thread(target=one, args=item, name=f"warm-up {item[0]}", daemon=True)
        for item in _stores().items()
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 2 * settings.BACKEND_TIMEOUT_SECONDS + 1
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    for name in _stores():
        if name not in results:
            logger.warning("store warm-up: %s still connecting; the process starts anyway", name)
            results[name] = False
    return results
