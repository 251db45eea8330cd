"""Backups of the shop's MongoDB database with mongodump/mongorestore: run, list, verify, restore.

A backup is one gzipped mongodump archive of settings.MONGODB_DB plus a manifest (see
backups.repository).
The web process never runs mongodump itself: backup_start / restore_start launch the management
command in a child process, and the manifest (or restore.json) carries the status across processes.
"""

import contextlib
import hashlib
import json
import logging
import math
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from django.conf import settings
from pymongo import IndexModel
from pymongo.errors import OperationFailure, PyMongoError

from eventlog.services import event_record
from shopsite import ferretdb_pg
from shopsite.management.commands.init_mongo import ensure_gin_indexes
from shopsite.mongo import ensure_indexes, get_db
from shopsite.timeutil import iso, utcnow

from . import repository
from .archive import ArchiveError, ArchiveSummary, read_archive
from .exceptions import BackupError, BackupInvalid, BackupNotFound, RestoreBusy
from .selectors import FAILED, OK, RUNNING, effective, public, restore_status

logger = logging.getLogger(__name__)

ERROR_TAIL_CHARS = 2000


def _setting(name: str, default):
    return getattr(settings, name, default)


# --- Credentials never leave this module ------------------------------------------------------


def _uri_secrets(uri: str) -> set[str]:
    secrets: set[str] = set()
    try:
        parts = urlsplit(uri)
        if parts.password:
            secrets |= {parts.password, unquote(parts.password)}
        for key, value in parse_qsl(parts.query):
            if value and any(word in key.lower() for word in ("password", "secret", "token")):
                secrets |= {value, unquote(value)}
    except ValueError:
        pass
    return {secret for secret in secrets if len(secret) >= 1}


def redact_uri(uri: str) -> str:
    """The URI without user info and options: safe for logs, manifests and error messages."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "<unparseable uri>"
    hosts = parts.netloc.rsplit("@", 1)[-1]
    userinfo = "***@" if "@" in parts.netloc else ""
    return f"{parts.scheme}://{userinfo}{hosts}{parts.path}"


_USERINFO = re.compile(r"(mongodb(?:\+srv)?://)[^@/\s]+@")


def redact(text: str, uri: str | None = None) -> str:
    uri = settings.MONGODB_URI if uri is None else uri
    if uri:
        text = text.replace(uri, redact_uri(uri))
    for secret in sorted(_uri_secrets(uri or ""), key=len, reverse=True):
        text = text.replace(secret, "***")
    # Any other form of the URI (the tools echo the one they were given) loses its user info.
    return _USERINFO.sub(r"\1***@", text)


def _tool_config(uri: str) -> str:
    """A 0600 YAML file for the tools' --config: the URI stays off the command line (ps)."""
    fd, path = tempfile.mkstemp(prefix="shopsite-mongotools-", suffix=".yaml")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(f"uri: {json.dumps(uri)}\n")  # a JSON string is a valid YAML scalar
    return path


def _tool_uri(uri: str) -> tuple[str, int]:
    """The URI for mongo-tools and its server selection timeout in whole seconds. mongo-tools 100.x
    reads the URI's serverSelectionTimeoutMS as seconds (500 ms waits 500 s), so the option is
    moved to --serverSelectionTimeout."""
    seconds = int(_setting("BACKUP_SERVER_SELECTION_TIMEOUT_SECONDS", 30))
    try:
        parts = urlsplit(uri)
    except ValueError:
        return uri, seconds
    query = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key.lower() == "serverselectiontimeoutms":
            with contextlib.suppress(ValueError):
                seconds = max(1, math.ceil(int(value) / 1000))
        else:
            query.append((key, value))
    return urlunsplit(parts._replace(query=urlencode(query, safe=":,/"))), seconds


def _run_tool(binary: str, args: list[str], timeout: float) -> subprocess.CompletedProcess:
    uri, selection_seconds = _tool_uri(settings.MONGODB_URI)
    config = _tool_config(uri)
    try:
        return subprocess.run(
            [
                binary,
                f"--config={config}",
                f"--serverSelectionTimeout={selection_seconds}",
                *args,
            ],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    finally:
        os.unlink(config)


def _tool_error(tool: str, proc: subprocess.CompletedProcess) -> str:
    lines = [line for line in (proc.stderr or "").splitlines() if line.strip()]
    failed = [line for line in lines if "Failed" in line or "error" in line.lower()]
    detail = "\n".join((failed or lines)[-5:])[-ERROR_TAIL_CHARS:]
    return redact(f"{tool} exited with status {proc.returncode}: {detail or 'no output'}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _binary(name: str) -> str:
    return str(_setting(name, name.removesuffix("_BIN").lower()))


# --- Taking a backup ----------------------------------------------------------------------------


def _reserve(*, user_id, pid: int | None) -> str:
    """Claim a fresh timestamped name (ms precision; bumped on a collision)."""
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


def _spawn(args: list[str], on_exit) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), *args],
        cwd=settings.BASE_DIR,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # Its own session: a reload or signal aimed at the web worker does not stop it.
        start_new_session=True,
    )

    def reap():
        code = process.wait()
        on_exit(code)

    threading.Thread(target=reap, name=f"reap-{process.pid}", daemon=True).start()
    return process


def backup_start(*, user_id) -> dict:
    """Reserve a name and run `manage.py backup_mongo --name <name>` in the background."""
    name = _reserve(user_id=user_id, pid=None)

    def on_exit(code: int) -> None:
        manifest = repository.manifest_read(name)
        if manifest and manifest.get("status") == RUNNING:
            manifest.update(
                status=FAILED,
                finished_at=iso(utcnow()),
                error=f"the backup process exited with status {code} before finishing",
            )
            repository.manifest_write(name, manifest)

    try:
        _spawn(["backup_mongo", "--name", name], on_exit)
    except OSError as exc:
        on_exit(-1)
        raise BackupError(f"could not start the backup process: {exc.strerror}") from exc
    return {"name": name, "status": RUNNING}


def backup_run(*, name: str | None = None, user_id=None) -> dict:
    """Take one backup now (in this process). Returns the manifest; raises BackupError on failure,
    after recording the failure. Old backups are pruned only after a success."""
    pid = os.getpid()
    if name is None:
        name = _reserve(user_id=user_id, pid=pid)
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

    started = time.monotonic()
    tmp = repository.temp_archive_path(name)
    try:
        with repository.directory_lock(_setting("BACKUP_LOCK_WAIT_SECONDS", 1800.0)):
            # Holding the lock, no other run is writing: leftovers are from crashed runs.
            for stale in repository.stale_temp_files():
                stale.unlink(missing_ok=True)
            summary, size, digest = _dump(tmp)
            final = repository.archive_path(name)
            os.replace(tmp, final)
            repository._fsync_dir(final.parent)
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
        tmp.unlink(missing_ok=True)
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


def _dump(tmp: Path) -> tuple[ArchiveSummary, int, str]:
    proc = _run_tool(
        _binary("MONGODUMP_BIN"),
        [f"--db={settings.MONGODB_DB}", f"--archive={tmp}", "--gzip"],
        timeout=_setting("BACKUP_TIMEOUT_SECONDS", 3600.0),
    )
    if proc.returncode != 0:
        raise BackupError(_tool_error("mongodump", proc))
    # Read it back before calling it good: complete, and the counts it really holds.
    try:
        summary = read_archive(tmp)
    except ArchiveError as exc:
        raise BackupError(f"mongodump wrote an unreadable archive: {exc}") from exc
    os.chmod(tmp, 0o600)  # the whole shop's data: owner only
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    return summary, tmp.stat().st_size, _sha256(tmp)


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


# --- Verifying and restoring ----------------------------------------------------------------------


def backup_verify(*, name: str, full: bool = True) -> tuple[dict, ArchiveSummary | None]:
    """Raise BackupNotFound / BackupInvalid unless the backup is complete and unaltered."""
    manifest = repository.manifest_read(name)
    if manifest is None:
        raise BackupNotFound(f"no backup named {name!r}")
    data = effective(manifest)
    if data["status"] != OK:
        detail = f": {data['error']}" if data.get("error") else ""
        raise BackupInvalid(f"backup {name} is not complete (status {data['status']}{detail})")
    path = repository.archive_path(name)
    size = path.stat().st_size
    if size != data.get("size_bytes"):
        raise BackupInvalid(
            f"backup {name} was altered or truncated: the archive has {size} bytes, "
            f"the manifest says {data.get('size_bytes')}"
        )
    if _sha256(path) != data.get("sha256"):
        raise BackupInvalid(
            f"backup {name} was altered: the archive's sha256 checksum does not match"
        )
    if not full:
        return data, None
    try:
        summary = read_archive(path)
    except ArchiveError as exc:
        raise BackupInvalid(f"backup {name} is unusable: {exc}") from exc
    if summary.counts != dict(sorted((data.get("collections") or {}).items())):
        raise BackupInvalid(
            f"backup {name} is incomplete: its document counts differ from the manifest"
        )
    return data, summary


def restore_preview(*, name: str) -> dict:
    """What a restore of this backup replaces: per collection, the current and the backed-up
    document counts; collections not in the backup are left as they are."""
    data, _ = backup_verify(name=name, full=False)
    db = get_db()
    current = {coll: _count(db[coll]) for coll in db.list_collection_names()}
    backed_up = data.get("collections") or {}
    return {
        "backup": public(data),
        "replaced": [
            {"collection": coll, "current": current.get(coll, 0), "backup": count}
            for coll, count in sorted(backed_up.items())
        ],
        "untouched": sorted(coll for coll in current if coll not in backed_up),
        "database": settings.MONGODB_DB,
    }


def restore_start(*, name: str, user_id) -> dict:
    """Check the backup now (so a bad one is refused at once), then restore in the background."""
    backup_verify(name=name, full=False)
    current = restore_status()
    if current and current.get("status") == RUNNING:
        raise RestoreBusy(f"a restore of {current.get('name')} is already running")
    status = {
        "name": name,
        "status": RUNNING,
        "started_at": iso(utcnow()),
        "finished_at": None,
        "error": None,
        "pid": None,
        "host": repository.host_id(),
        "started_by": None if user_id is None else str(user_id),
    }
    repository.restore_status_write(status)

    def on_exit(code: int) -> None:
        latest = repository.restore_status_read()
        if latest and latest.get("name") == name and latest.get("status") == RUNNING:
            latest.update(
                status=FAILED,
                finished_at=iso(utcnow()),
                error=f"the restore process exited with status {code} before finishing",
            )
            repository.restore_status_write(latest)

    args = ["restore_mongo", name]
    if user_id is not None:
        args += ["--user-id", str(user_id)]
    try:
        _spawn(args, on_exit)
    except OSError as exc:
        on_exit(-1)
        raise BackupError(f"could not start the restore process: {exc.strerror}") from exc
    return {"name": name, "status": RUNNING}


def restore_run(*, name: str, user_id=None) -> dict:
    """mongorestore --drop of a verified backup into settings.MONGODB_DB, then its indexes and a
    count check. Raises BackupNotFound / BackupInvalid / BackupError."""
    if repository.manifest_read(name) is None:
        raise BackupNotFound(f"no backup named {name!r}")
    started = time.monotonic()
    status = {
        "name": name,
        "status": RUNNING,
        "started_at": iso(utcnow()),
        "finished_at": None,
        "error": None,
        "pid": os.getpid(),
        "host": repository.host_id(),
        "started_by": None if user_id is None else str(user_id),
    }
    repository.restore_status_write(status)
    try:
        with repository.directory_lock(_setting("BACKUP_LOCK_WAIT_SECONDS", 1800.0)):
            data, summary = backup_verify(name=name)
            _restore(name, summary)
    except (
        BackupError,
        repository.LockTimeout,
        OSError,
        subprocess.SubprocessError,
        PyMongoError,
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


def _restore(name: str, summary: ArchiveSummary) -> None:
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
    proc = _run_tool(
        _binary("MONGORESTORE_BIN"), args, timeout=_setting("BACKUP_TIMEOUT_SECONDS", 3600.0)
    )
    if proc.returncode != 0:
        raise BackupError(_tool_error("mongorestore", proc))

    db = get_db()
    for coll, info in summary.collections.items():
        models = [_index_model(spec) for spec in info.indexes if spec.get("name") != "_id_"]
        if models:
            ensure_indexes(db[coll], models)
    # --drop dropped the GIN indexes FerretDB/PostgreSQL's equality reads use.
    ensure_gin_indexes()
    for coll, info in summary.collections.items():
        found = _count(db[coll])
        if found != info.documents:
            raise BackupError(
                f"restore of {name} is incomplete: {coll} has {found} documents, "
                f"the backup {info.documents}"
            )


def _count(collection) -> int:
    """Document count from collection statistics: a full count takes ~35 s for 100,000 orders on
    FerretDB/SQLite, $collStats well under 1 s (and MongoDB keeps it in metadata). On
    FerretDB/PostgreSQL $collStats is the planner's estimate: count the table there."""
    exact = ferretdb_pg.exact_count(collection.database.name, collection.name)
    if exact is not None:
        return exact
    try:
        stats = list(collection.aggregate([{"$collStats": {"count": {}}}]))
        return int(sum(item.get("count", 0) for item in stats))
    except OperationFailure:
        return collection.estimated_document_count()


def _index_model(spec: dict) -> IndexModel:
    options = {k: v for k, v in spec.items() if k not in ("key", "v", "ns")}
    return IndexModel(list(spec["key"].items()), **options)
