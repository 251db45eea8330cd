"""The backup directory (settings.BACKUP_DIR): archives, their manifests, the lock and the restore
status, nothing else touches these files; and the shop database's collections as a restore sees
them (counts, indexes from an archive).

Layout, for a backup named `mongo-20261127-050000-000`:
  mongo-20261127-050000-000.archive.gz   the gzipped mongodump archive (only when status is ok)
  mongo-20261127-050000-000.json         its manifest: status running/ok/failed, counts, sha256, ...
  .mongo-20261127-050000-000.archive.gz.tmp   while mongodump writes (never listed, never restored)
  .lock                                  flock held by a running backup or restore
  restore.json                           status of the latest restore
Files are replaced atomically (write a temporary file, fsync, rename), so a reader never sees half
of one.
"""

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import socket
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from pymongo import IndexModel
from pymongo.errors import OperationFailure, PyMongoError

from shopsite import ferretdb_pg
from shopsite.fsutil import fsync_dir
from shopsite.mongo import ensure_indexes, get_db

# Any failure of the MongoDB server or driver, for the callers that record it as a failed run.
StoreError = PyMongoError

NAME_RE = re.compile(r"^mongo-\d{8}-\d{6}-\d{3}$")
ARCHIVE_SUFFIX = ".archive.gz"
MANIFEST_SUFFIX = ".json"
TMP_SUFFIX = ".tmp"
RESTORE_STATUS = "restore.json"
LOCK_FILE = ".lock"


class LockTimeout(Exception):
    pass


def backup_dir() -> Path:
    path = Path(settings.BACKUP_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def valid_name(name: str) -> bool:
    return bool(NAME_RE.match(name or ""))


def name_for(moment: datetime) -> str:
    return "mongo-" + moment.strftime("%Y%m%d-%H%M%S-") + f"{moment.microsecond // 1000:03d}"


def archive_path(name: str) -> Path:
    _check(name)
    return backup_dir() / f"{name}{ARCHIVE_SUFFIX}"


def archive_open(name: str) -> BinaryIO:
    return open(archive_path(name), "rb")  # noqa: SIM115 (the caller closes it)


def temp_archive_path(name: str) -> Path:
    _check(name)
    return backup_dir() / f".{name}{ARCHIVE_SUFFIX}{TMP_SUFFIX}"


def manifest_path(name: str) -> Path:
    _check(name)
    return backup_dir() / f"{name}{MANIFEST_SUFFIX}"


def _check(name: str) -> None:
    # Names come from URLs: only the exact generated shape may become a path.
    if not valid_name(name):
        raise ValueError(f"not a backup name: {name!r}")


def host_id() -> str:
    return socket.gethostname()


def _write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}{TMP_SUFFIX}")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def _read_json(path: Path) -> dict | None:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"status": "failed", "error": f"manifest {path.name} is unreadable"}
    return data if isinstance(data, dict) else None


def manifest_reserve(name: str, data: dict) -> bool:
    """Create the manifest of a new backup; False if the name is taken."""
    path = manifest_path(name)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    return True


def manifest_write(name: str, data: dict) -> None:
    _write_json_atomic(manifest_path(name), data)


def manifest_read(name: str) -> dict | None:
    if not valid_name(name):
        return None
    data = _read_json(manifest_path(name))
    if data is not None:
        data["name"] = name
    return data


def manifest_names() -> list[str]:
    """Names of every backup with a manifest, newest first."""
    names = [
        entry.name[: -len(MANIFEST_SUFFIX)]
        for entry in os.scandir(backup_dir())
        if entry.name.endswith(MANIFEST_SUFFIX) and valid_name(entry.name[: -len(MANIFEST_SUFFIX)])
    ]
    return sorted(names, reverse=True)


def backup_delete(name: str) -> None:
    """Archive first, manifest last: a crash in between leaves a manifest whose archive is missing,
    which restore refuses, never an archive without its checksum."""
    for path in (archive_path(name), manifest_path(name)):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def stale_temp_files_remove() -> None:
    """Remove temporary files of crashed runs (call holding the directory lock)."""
    for path in backup_dir().iterdir():
        if path.name.startswith(".") and path.name.endswith(TMP_SUFFIX):
            path.unlink(missing_ok=True)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def temp_archive_publish(name: str) -> tuple[int, str]:
    """Make the finished temporary archive the backup's archive: owner-only, on disk, then renamed.
    Returns its size and sha256."""
    tmp, final = temp_archive_path(name), archive_path(name)
    os.chmod(tmp, 0o600)  # the whole shop's data: owner only
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    size, digest = tmp.stat().st_size, file_sha256(tmp)
    os.replace(tmp, final)
    fsync_dir(final.parent)
    return size, digest


def temp_archive_discard(name: str) -> None:
    temp_archive_path(name).unlink(missing_ok=True)


def restore_status_read() -> dict | None:
    return _read_json(backup_dir() / RESTORE_STATUS)


def restore_status_write(data: dict) -> None:
    _write_json_atomic(backup_dir() / RESTORE_STATUS, data)


def process_alive(pid: int | None, host: str | None) -> bool:
    """Whether a recorded process still runs; unknown (another host) counts as alive."""
    if not pid:
        return False
    if host != host_id():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited child not yet reaped) is not running.
    with contextlib.suppress(OSError), open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        if handle.read().rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


@contextlib.contextmanager
def directory_lock(timeout_seconds: float) -> Iterator[None]:
    """Exclusive lock on BACKUP_DIR/.lock, waiting up to timeout_seconds. The kernel drops an
    flock when its holder dies, so a crashed run never leaves the directory locked."""
    fd = os.open(backup_dir() / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    raise LockTimeout(
                        f"another backup or restore held the lock for more than "
                        f"{timeout_seconds:g} s"
                    ) from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)  # closing releases the flock


# --- The shop database, as a restore sees it ------------------------------------------------------


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


def collection_counts() -> dict[str, int]:
    """Documents per collection of MONGODB_DB."""
    db = get_db()
    return {name: _count(db[name]) for name in db.list_collection_names()}


def collection_count(name: str) -> int:
    return _count(get_db()[name])


def indexes_create(collection: str, specs: list[dict]) -> list[str]:
    """Create the indexes a mongodump archive lists for a collection (its metadata's specs)."""
    models = [
        IndexModel(
            list(spec["key"].items()),
            **{k: v for k, v in spec.items() if k not in ("key", "v", "ns")},
        )
        for spec in specs
        if spec.get("name") != "_id_"
    ]
    return ensure_indexes(get_db()[collection], models) if models else []
