"""Taking a backup: reserve a name, mongodump into a temporary archive, read it back, publish it,
then apply the retention. The manifest carries the status across processes."""

import logging
import os
import subprocess
import time
from datetime import timedelta

from django.conf import settings

from eventlog.services import event_record
from orders import services as order_services
from shopsite.timeutil import iso, utcnow

from . import repository
from .archive import ArchiveError, ArchiveSummary, read_archive
from .exceptions import BackupError, BackupNotFound
from .progress import Progress, ToolProgress
from .status import FAILED, OK, RUNNING, effective
from .tools import redact, redact_uri, run_tool

logger = logging.getLogger(__name__)


def backup_reserve(*, user_id, pid: int | None) -> str:
    """Claim a fresh timestamped name (ms precision; bumped on a collision) with a running
    manifest; pid None means a child process will take it over (backup_run(name=...))."""
    moment = utcnow()
    for _ in range(1000):
        name = repository.name_for(moment)
        manifest = {
            "status": RUNNING,
            "created_at": iso(moment),
            "database": settings.MONGODB_DB,
            "server": redact_uri(settings.MONGODB_URI),
            "pid": pid,
            "host": repository.host_id(),
            "started_by": None if user_id is None else str(user_id),
        }
        if repository.manifest_reserve(name, manifest):
            return name
        moment += timedelta(milliseconds=1)
    raise BackupError("could not find a free backup name")


def _take_over(name: str | None, user_id) -> tuple[str, dict]:
    pid = os.getpid()
    if name is None:
        name = backup_reserve(user_id=user_id, pid=pid)
        manifest = repository.manifest_read(name)
    else:
        manifest = repository.manifest_read(name)
        if manifest is None:
            raise BackupNotFound(f"no backup named {name!r} was reserved")
        if manifest.get("status") != RUNNING or manifest.get("pid"):
            raise BackupError(f"backup {name} was already run")
        manifest["pid"] = pid
        repository.manifest_write(name, manifest)
    manifest.pop("name", None)
    return name, manifest


def backup_run(*, name: str | None = None, user_id=None, progress: Progress | None = None) -> dict:
    """Take one backup now (in this process). Returns the manifest; raises BackupError on failure,
    after recording the failure. Old backups are pruned only after a success."""
    progress = progress or Progress()
    name, manifest = _take_over(name, user_id)
    started = time.monotonic()
    try:
        with repository.directory_lock(settings.BACKUP_LOCK_WAIT_SECONDS):
            # Holding the lock, no other run is writing: leftovers are from crashed runs.
            repository.stale_temp_files_remove()
            summary = _dump(name, progress)
            size, digest = repository.temp_archive_publish(name)
            manifest.update(
                status=OK,
                finished_at=iso(utcnow()),
                size_bytes=size,
                sha256=digest,
                collections=summary.counts,
                mongodump_version=summary.tool_version,
                server_version=summary.server_version,
                duration_seconds=round(time.monotonic() - started, 3),
                error=None,
            )
            repository.manifest_write(name, manifest)
            deleted = _apply_retention()
    except (BackupError, repository.LockTimeout, OSError, subprocess.SubprocessError) as exc:
        repository.temp_archive_discard(name)
        message = redact(str(exc) if not isinstance(exc, OSError) else f"{exc.strerror}: {exc}")
        manifest.update(
            status=FAILED,
            finished_at=iso(utcnow()),
            duration_seconds=round(time.monotonic() - started, 3),
            error=message,
        )
        repository.manifest_write(name, manifest)
        logger.error("backup %s failed: %s", name, message)
        event_record(
            event_type="backup_failed",
            user_id=manifest.get("started_by"),
            metadata={"name": name, "error": message},
        )
        raise BackupError(message) from None

    logger.info("backup %s: %d bytes, %s", name, size, summary.counts)
    event_record(
        event_type="backup_completed",
        user_id=manifest.get("started_by"),
        metadata={
            "name": name,
            "size_bytes": size,
            "documents": sum(summary.counts.values()),
            "pruned": deleted,
        },
    )
    return {**manifest, "name": name}


def _dump(name: str, progress: Progress) -> ArchiveSummary:
    """mongodump into the temporary archive, then read it back: complete, and the counts it
    really holds."""
    try:
        total = sum(repository.collection_counts().values())
    except repository.StoreError:
        total = None  # the server is unreachable: mongodump will say so
    tmp = repository.temp_archive_path(name)
    progress.start(f"dumping {name}", total)
    result = run_tool(
        "mongodump",
        [
            f"--db={settings.MONGODB_DB}",
            f"--archive={tmp}",
            "--gzip",
            # Derived data (recomputed from the orders after a restore): not worth archiving.
            f"--excludeCollectionsWithPrefix={order_services.SUMMARY_COLLECTION_PREFIX}",
        ],
        on_line=ToolProgress(progress),
    )
    if result.returncode != 0:
        raise BackupError(result.error())
    progress.finish()
    progress.note(f"checking {name}: reading the archive back")
    try:
        return read_archive(tmp)
    except ArchiveError as exc:
        raise BackupError(f"mongodump wrote an unreadable archive: {exc}") from exc


def _apply_retention() -> list[str]:
    """Keep the newest BACKUP_RETENTION good backups; drop failed records older than the oldest
    kept one (and beyond the same number). Runs under the directory lock."""
    keep = max(1, int(settings.BACKUP_RETENTION))
    good, failed = [], []
    for name in repository.manifest_names():  # newest first
        manifest = repository.manifest_read(name)
        if manifest is None:
            continue
        status = effective(manifest)["status"]
        if status == OK:
            good.append(name)
        elif status == FAILED:
            failed.append(name)
    doomed = good[keep:]
    oldest_kept = good[:keep][-1] if good else None
    doomed += [
        name
        for index, name in enumerate(failed)
        if index >= keep or (oldest_kept is not None and name < oldest_kept)
    ]
    for name in doomed:
        repository.backup_delete(name)
    if doomed:
        logger.info("retention removed %d backup(s): %s", len(doomed), ", ".join(sorted(doomed)))
    return sorted(doomed)
