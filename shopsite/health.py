"""Backend health checks, run in parallel so one slow backend bounds the whole check."""

import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings

from .cassandra_client import get_session
from .mongo import get_client
from .redis_client import get_redis


def _mongodb() -> None:
    get_client().admin.command("ping")


def _redis() -> None:
    get_redis().ping()


def _cassandra() -> None:
    get_session().execute("SELECT release_version FROM system.local")


CHECKS = {"mongodb": _mongodb, "redis": _redis, "cassandra": _cassandra}
_pool = ThreadPoolExecutor(max_workers=len(CHECKS) * 2, thread_name_prefix="health")


def _timed(check) -> dict:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:
        return {"ok": False, "latency_ms": None, "error": type(exc).__name__}
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


def check_all() -> dict:
    deadline = settings.BACKEND_TIMEOUT_SECONDS + 1.0
    futures = {name: _pool.submit(_timed, check) for name, check in CHECKS.items()}
    report: dict = {}
    for name, future in futures.items():
        try:
            report[name] = future.result(timeout=deadline)
        except FutureTimeout:
            report[name] = {"ok": False, "latency_ms": None, "error": "Timeout"}
    report = {"status": "ok" if all(r["ok"] for r in report.values()) else "degraded", **report}
    return report
