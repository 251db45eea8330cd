"""Restoring a backup: verify it, mongorestore --drop it into MONGODB_DB, recreate its indexes (and
the GIN indexes of FerretDB/PostgreSQL), and check the document counts. restore.json carries the
status across processes."""

import logging
import os
import subprocess
import time

from django.conf import settings

from eventlog.services import event_record
from orders import services as order_services
from shopsite.management.commands.init_mongo import ensure_gin_indexes
from shopsite.timeutil import iso, utcnow

from . import repository
from .archive import ArchiveSummary
from .exceptions import BackupError, BackupInvalid, BackupNotFound
from .progress import Progress, ToolProgress
from .status import FAILED, OK, RUNNING
from .tools import redact, run_tool
from .verify import backup_verify

logger = logging.getLogger(__name__)


def restore_record(*, name: str, user_id, pid: int | None) -> dict:
    """A new running status record (pid None: a child process will take it over)."""
    record = {
        "name": name,
        "status": RUNNING,
        "started_at": iso(utcnow()),
        "finished_at": None,
        "error": None,
        "pid": pid,
        "host": repository.host_id(),
        "started_by": None if user_id is None else str(user_id),
    }
    repository.restore_status_write(record)
    return record


def restore_run(*, name: str, user_id=None, progress: Progress | None = None) -> dict:
    """mongorestore --drop of a verified backup into settings.MONGODB_DB, then its indexes and a
    count check. Raises BackupNotFound / BackupInvalid / BackupError."""
    progress = progress or Progress()
    if repository.manifest_read(name) is None:
        raise BackupNotFound(f"no backup named {name!r}")
    started = time.monotonic()
    status = restore_record(name=name, user_id=user_id, pid=os.getpid())
    try:
        with repository.directory_lock(settings.BACKUP_LOCK_WAIT_SECONDS):
            progress.note(f"verifying {name}: checksum and a full read of the archive")
            data, summary = backup_verify(name=name)
            _restore(name, summary, progress)
    except (
        BackupError,
        repository.LockTimeout,
        OSError,
        subprocess.SubprocessError,
        repository.StoreError,
    ) as exc:
        message = redact(str(exc))
        status.update(status=FAILED, finished_at=iso(utcnow()), error=message)
        repository.restore_status_write(status)
        logger.error("restore of %s failed: %s", name, message)
        event_record(
            event_type="backup_restore_failed",
            user_id=user_id,
            metadata={"name": name, "error": message},
        )
        if isinstance(exc, BackupError):
            raise
        raise BackupError(message) from None
    status.update(
        status=OK,
        finished_at=iso(utcnow()),
        duration_seconds=round(time.monotonic() - started, 3),
        collections=summary.counts,
    )
    repository.restore_status_write(status)
    logger.info("restored %s into %s: %s", name, settings.MONGODB_DB, summary.counts)
    event_record(
        event_type="backup_restored",
        user_id=user_id,
        metadata={"name": name, "database": settings.MONGODB_DB, "collections": summary.counts},
    )
    return status


def _restore(name: str, summary: ArchiveSummary, progress: Progress) -> None:
    target = settings.MONGODB_DB
    sources = summary.databases or {target}
    if len(sources) != 1:
        raise BackupInvalid(f"backup {name} holds more than one database")
    source = sources.pop()
    args = [
        f"--archive={repository.archive_path(name)}",
        "--gzip",
        "--drop",
        f"--nsInclude={source}.*",
        # FerretDB: parallel inserts hit SQLITE_BUSY (FerretDB issue #3700).
        "--numParallelCollections=1",
        "--numInsertionWorkersPerCollection=1",
        "--stopOnError",
        # mongorestore always adds the index option "ns", which FerretDB rejects; indexes are
        # created below from the archive's own metadata, on MongoDB and FerretDB alike.
        "--noIndexRestore",
    ]
    if source != target:
        args += [f"--nsFrom={source}.*", f"--nsTo={target}.*"]
    collections = summary.collections
    progress.start(f"restoring {name}", sum(info.documents for info in collections.values()))
    sizes = {coll: (info.documents, info.bson_bytes) for coll, info in collections.items()}
    result = run_tool("mongorestore", args, on_line=ToolProgress(progress, sizes))
    if result.returncode != 0:
        raise BackupError(result.error())
    progress.finish()

    progress.start(f"indexing {name}", len(collections), "collections")
    for done, (coll, info) in enumerate(sorted(collections.items()), start=1):
        repository.indexes_create(coll, info.indexes)
        found = repository.collection_count(coll)
        if found != info.documents:
            raise BackupError(
                f"restore of {name} is incomplete: {coll} has {found} documents, "
                f"the backup {info.documents}"
            )
        progress.update(done)
    # FerretDB/PostgreSQL: the GIN indexes of the apps' equality reads went with the dropped tables.
    ensure_gin_indexes()
    # The sales summaries are derived from the orders: recomputed from the restored ones.
    order_services.sales_summaries_invalidate()
    progress.finish()
