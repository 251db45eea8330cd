"""Checking a backup before it is restored: complete, unaltered, and holding what its manifest
says."""

from . import repository
from .archive import ArchiveError, ArchiveSummary, read_archive
from .exceptions import BackupInvalid, BackupNotFound
from .status import OK, effective


def backup_verify(*, name: str, full: bool = True) -> tuple[dict, ArchiveSummary | None]:
    """The backup's effective manifest and, if full, the archive read end to end. Raises
    BackupNotFound / BackupInvalid unless the backup is complete and unaltered. Without full,
    size and sha256 only (quick: to refuse a bad restore before starting it)."""
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
    if repository.file_sha256(path) != data.get("sha256"):
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
