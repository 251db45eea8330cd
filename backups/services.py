"""What can be done to backups: take one, verify one, restore one, now or in the background.

A backup is one gzipped mongodump archive of settings.MONGODB_DB plus a manifest (see
backups.repository). The web process never runs the tools itself: backup_start / restore_start
launch the management command in a child process (backups.spawn), and the manifest (or
restore.json) carries the status across processes. The work itself is in backups.dump,
backups.verify and backups.restore; reads are in backups.selectors.
"""

from . import repository
from .dump import backup_reserve, backup_run
from .exceptions import RestoreBusy
from .restore import restore_record, restore_run
from .selectors import restore_status
from .spawn import command_start
from .status import RUNNING
from .verify import backup_verify

__all__ = ["backup_run", "backup_start", "backup_verify", "restore_run", "restore_start"]


def backup_start(*, user_id) -> dict:
    """Reserve a name and run `manage.py backup_mongo --name <name>` in the background."""
    name = backup_reserve(user_id=user_id, pid=None)
    command_start(
        ["backup_mongo", "--name", name],
        what="backup",
        read=lambda: repository.manifest_read(name),
        write=lambda manifest: repository.manifest_write(name, manifest),
    )
    return {"name": name, "status": RUNNING}


def restore_start(*, name: str, user_id) -> dict:
    """Check the backup now (so a bad one is refused at once), then restore in the background."""
    backup_verify(name=name, full=False)
    current = restore_status()
    if current and current.get("status") == RUNNING:
        raise RestoreBusy(f"a restore of {current.get('name')} is already running")
    restore_record(name=name, user_id=user_id, pid=None)

    def latest_of_this_backup() -> dict | None:
        latest = repository.restore_status_read()
        return latest if latest and latest.get("name") == name else None

    args = ["restore_mongo", name]
    if user_id is not None:
        args += ["--user-id", str(user_id)]
    command_start(
        args, what="restore", read=latest_of_this_backup, write=repository.restore_status_write
    )
    return {"name": name, "status": RUNNING}
