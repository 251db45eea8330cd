"""Reads of backups and restores as users see them: a status that accounts for a process that died
or never started, and for an archive that vanished."""

from datetime import timedelta
from typing import BinaryIO

from shopsite.timeutil import parse_iso, utcnow

from . import repository
from .exceptions import BackupInvalid, BackupNotFound

RUNNING, OK, FAILED = "running", "ok", "failed"
# A reserved backup whose child process never took it over is reported failed after this.
START_GRACE = timedelta(seconds=120)


def _parse(value):
    try:
        return parse_iso(value) if value else None
    except ValueError:
        return None


def _age(moment) -> timedelta | None:
    started = _parse(moment)
    return None if started is None else utcnow() - started


def effective(manifest: dict) -> dict:
    """The manifest with the status a reader should believe."""
    data = dict(manifest)
    status = data.get("status")
    if status == RUNNING:
        pid, host = data.get("pid"), data.get("host")
        if pid and not repository.process_alive(pid, host):
            data.update(status=FAILED, error="the backup process ended before finishing")
        elif not pid and (age := _age(data.get("created_at"))) is not None and age > START_GRACE:
            data.update(status=FAILED, error="the backup process did not start")
    elif status == OK and not repository.archive_path(data["name"]).exists():
        data.update(status=FAILED, error="the archive file is missing")
    elif status not in (RUNNING, OK, FAILED):
        data.update(status=FAILED, error=data.get("error") or "unknown status")
    return data


def public(data: dict) -> dict:
    collections = data.get("collections") or {}
    return {
        "name": data["name"],
        "created_at": data.get("created_at"),
        "finished_at": data.get("finished_at"),
        "status": data["status"],
        "size_bytes": data.get("size_bytes"),
        "documents": sum(collections.values()) if data["status"] == OK else None,
        "collections": collections if data["status"] == OK else {},
        "sha256": data.get("sha256"),
        "database": data.get("database"),
        "mongodump_version": data.get("mongodump_version"),
        "duration_seconds": data.get("duration_seconds"),
        "error": data.get("error"),
        "started_by": data.get("started_by"),
    }


def _effective_manifests():
    """(name, effective manifest) for every backup, newest first, read lazily."""
    for name in repository.manifest_names():
        manifest = repository.manifest_read(name)
        if manifest is not None:
            yield name, effective(manifest)


def backup_list() -> list[dict]:
    """Every backup (ok, running and failed), newest first."""
    return [public(data) for _, data in _effective_manifests()]


def backup_get(*, name: str) -> dict:
    manifest = repository.manifest_read(name)
    if manifest is None:
        raise BackupNotFound(f"no backup named {name!r}")
    return public(effective(manifest))


def backup_newest_good() -> dict | None:
    """The newest backup that can be restored: {"name", "created_at", "finished_at",
    "age_seconds"} (age since it started: what it holds is at least that old), or None.
    Reads manifests newest first and stops at the first good one."""
    for name, data in _effective_manifests():
        if data["status"] != OK:
            continue
        age = _age(data.get("created_at"))
        if age is None:
            continue
        return {
            "name": name,
            "created_at": data["created_at"],
            "finished_at": data.get("finished_at"),
            "age_seconds": max(0, round(age.total_seconds())),
        }
    return None


def restore_status() -> dict | None:
    """The latest restore's status record, or None if there never was one."""
    data = repository.restore_status_read()
    if not data:
        return None
    if data.get("status") == RUNNING and not repository.process_alive(
        data.get("pid"), data.get("host")
    ):
        age = _age(data.get("started_at"))
        if data.get("pid") or age is None or age > START_GRACE:
            data.update(status=FAILED, error="the restore process ended before finishing")
    return data


def backup_archive_open(*, name: str) -> tuple[BinaryIO, str]:
    """A good backup's archive, open for reading, and its download file name. BackupNotFound if
    unknown or gone; BackupInvalid if it has no archive (running or failed)."""
    backup = backup_get(name=name)
    if backup["status"] != OK:
        raise BackupInvalid(f"Backup {name} has no archive (status {backup['status']}).")
    try:
        handle = repository.archive_open(name)
    except FileNotFoundError:
        raise BackupNotFound(f"no backup named {name!r}") from None
    return handle, f"{name}{repository.ARCHIVE_SUFFIX}"
