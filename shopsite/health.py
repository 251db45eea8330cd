"""Backend health checks, run in parallel so one slow backend bounds the whole check; and the
event outbox's backlog against its ceiling (EVENT_OUTBOX_MAX_PENDING)."""

import os
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings
from django.utils.module_loading import import_string

from .cassandra_client import get_session
from .mongo import get_client
from .redis_client import get_redis
from .timeutil import iso


def _mongodb() -> None:
    get_client().admin.command("ping")


def _redis() -> None:
    get_redis().ping()


def _cassandra() -> None:
    get_session().execute("SELECT release_version FROM system.local")


CHECKS = {"mongodb": _mongodb, "redis": _redis, "cassandra": _cassandra}
_pool = ThreadPoolExecutor(max_workers=(len(CHECKS) + 1) * 2, thread_name_prefix="health")
# Spool files are named outbox-<host>-<pid>.jsonl (eventlog/spool.py).
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
        status = import_string(settings.HEALTH_OUTBOX_STATUS)()
    except Exception as exc:
        report.update(ok=False, pending=None, error=f"{type(exc).__name__}: events spooled to disk")
        return report
    pending = status["pending"]
    report.update(status, worker_last_seen=iso(status["worker_last_seen"]))
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


def _done(result: dict) -> Future:
    future: Future = Future()
    future.set_result(result)
    return future


def check_all() -> dict:
    deadline = settings.BACKEND_TIMEOUT_SECONDS + 1.0
    try:
        futures = {name: _pool.submit(_timed, check) for name, check in CHECKS.items()}
        futures["outbox"] = _pool.submit(_outbox)
    except RuntimeError:
        # The interpreter is exiting (a worker stopped or aborted mid-request): the pool takes
        # no more work, so check one after the other rather than answer 500.
        futures = {name: _done(_timed(check)) for name, check in CHECKS.items()}
        futures["outbox"] = _done(_outbox())
    report: dict = {}
    for name, future in futures.items():
        try:
            report[name] = future.result(timeout=deadline)
        except FutureTimeout:
            report[name] = {"ok": False, "latency_ms": None, "error": "Timeout"}
    report = {"status": "ok" if all(r["ok"] for r in report.values()) else "degraded", **report}
    # Reported, not part of the status (200/503 stays about the backends and the outbox ceiling).
    report["backup"] = _backup()
    report["warnings"] = warnings(report)
    return report


def _backup() -> dict:
    try:
        newest = import_string(settings.HEALTH_NEWEST_BACKUP)()
    except Exception as exc:  # a backup folder that cannot be read
        return {"newest_good": None, "age_seconds": None, "error": type(exc).__name__}
    if newest is None:
        return {"newest_good": None, "age_seconds": None}
    return {
        "newest_good": newest["name"],
        "created_at": newest["created_at"],
        "age_seconds": newest["age_seconds"],
    }


def ago(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    if seconds < 120:
        return f"{round(seconds)} s"
    if seconds < 2 * 3600:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def warnings(report: dict) -> list[str]:
    """What an operator should look at: the event outbox stuck, the event worker silent, the
    newest good backup too old (thresholds: OPS_* settings)."""
    found = []
    outbox = report.get("outbox") or {}
    found += _too_old(
        outbox.get("oldest_age_seconds"),
        settings.OPS_OUTBOX_MAX_AGE_SECONDS,
        "The oldest event in the outbox has waited {age} (more than {limit}): "
        "events are not reaching Cassandra.",
    )
    if outbox.get("pending") is not None:  # Redis answered, so the heartbeat could be read
        found += _too_old(
            outbox.get("worker_age_seconds"),
            settings.OPS_WORKER_SILENT_SECONDS,
            "The event worker was last seen {age} ago (silent for more than {limit}).",
            never="The event worker has never been seen: start `manage.py eventlog_worker`.",
        )
    backup = report.get("backup") or {}
    if backup.get("error") is None:
        found += _too_old(
            backup.get("age_seconds"),
            settings.OPS_BACKUP_MAX_AGE_SECONDS,
            "The newest good backup is {age} old (more than {limit}).",
            never="There is no good backup yet: run `manage.py backup_mongo`.",
        )
    return found


def _too_old(age: float | None, limit: float, text: str, never: str | None = None) -> list[str]:
    """[text] when age is past limit; [never] when there is no age at all (if that warns)."""
    if age is None:
        return [never] if never else []
    return [text.format(age=ago(age), limit=ago(limit))] if age > limit else []
