"""What a backup's or restore's recorded status means to a reader: it accounts for a process that
died or never started, and for an archive that vanished."""

from datetime import timedelta

from shopsite.timeutil import parse_iso, utcnow

from . import repository

RUNNING, OK, FAILED = "running", "ok", "failed"
# A reserved backup whose child process never took it over is reported failed after this.
START_GRACE = timedelta(seconds=120)


def _parse(value):
    try:
        return parse_iso(value) if value else None
    except ValueError:
        return None


def age_of(moment) -> timedelta | None:
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
        elif not pid and (age := age_of(data.get("created_at"))) is not None and age > START_GRACE:
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
