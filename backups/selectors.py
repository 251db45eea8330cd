"""Reads of backups and restores, as the API, the pages and other apps see them."""

from typing import BinaryIO

from django.conf import settings

from . import repository
from .exceptions import BackupInvalid, BackupNotFound
from .status import FAILED, OK, RUNNING, START_GRACE, age_of, effective, public
from .verify import backup_verify

__all__ = ["FAILED", "OK", "RUNNING"]  # the status values, for the pages


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
        age = age_of(data.get("created_at"))
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
        age = age_of(data.get("started_at"))
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


def restore_preview(*, name: str) -> dict:
    """What a restore of this backup replaces: per collection, the current and the backed-up
    document counts; collections not in the backup are left as they are."""
    data, _ = backup_verify(name=name, full=False)
    current = repository.collection_counts()
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
