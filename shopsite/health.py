"""Backend health checks, run in parallel so one slow backend bounds the whole check; and the
event outbox's backlog against its ceiling (EVENT_OUTBOX_MAX_PENDING)."""

import os
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
_pool = ThreadPoolExecutor(max_workers=(len(CHECKS) + 1) * 2, thread_name_prefix="health")
# Spool files are named outbox-<host>-<pid>.jsonl (eventlog/services.py).
SPOOL_MARK = ".jsonl"


def _outbox() -> dict:
    """Events waiting in the Redis outbox against the ceiling, and spool files on this host.
    At the ceiling new events go to the disk spool (nothing is lost), but the worker is down or
    behind: degraded, with the reason."""
    directory = str(settings.EVENT_SPOOL_DIR)
    spool_files = (
        sum(1 for name in os.listdir(directory) if SPOOL_MARK in name)
        if os.path.isdir(directory)
        else 0
    )
    ceiling = settings.EVENT_OUTBOX_MAX_PENDING
    report = {"ok": True, "latency_ms": None, "ceiling": ceiling, "spool_files": spool_files}
    try:
        pending = get_redis().xlen(settings.EVENT_OUTBOX_STREAM)
    except Exception as exc:
        report.update(ok=False, pending=None, error=f"{type(exc).__name__}: events spooled to disk")
        return report
    report["pending"] = pending
    if pending >= ceiling:
        report.update(
            ok=False,
            error=f"event outbox at its ceiling ({pending} pending, ceiling {ceiling}): new "
            "events are spooled to disk until the event worker catches up",
        )
    return report


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
    futures["outbox"] = _pool.submit(_outbox)
    report: dict = {}
    for name, future in futures.items():
        try:
            report[name] = future.result(timeout=deadline)
        except FutureTimeout:
            report[name] = {"ok": False, "latency_ms": None, "error": "Timeout"}
    report = {"status": "ok" if all(r["ok"] for r in report.values()) else "degraded", **report}
    return report
