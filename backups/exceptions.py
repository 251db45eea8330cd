"""Domain errors of backups; every message is safe to show (credentials redacted).
shopsite's one exception handler maps them to HTTP."""

from shopsite.api import ConflictError, DomainError, NotFoundError


class BackupError(DomainError):
    """A backup or restore failed."""

    status_code = 500


class BackupNotFound(BackupError, NotFoundError):
    status_code = 404


class BackupInvalid(BackupError, ConflictError):
    """The backup cannot be restored: incomplete, failed, or its archive was altered."""

    status_code = 409


class RestoreBusy(BackupError, ConflictError):
    status_code = 409
