"""Domain errors of backups; every message is safe to show (credentials redacted)."""


class BackupError(Exception):
    """A backup or restore failed."""


class BackupNotFound(BackupError):
    pass


class BackupInvalid(BackupError):
    """The backup cannot be restored: incomplete, failed, or its archive was altered."""


class RestoreBusy(BackupError):
    pass
