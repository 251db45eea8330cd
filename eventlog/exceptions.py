"""Domain errors of the event log; shopsite's one exception handler maps them to HTTP."""

from shopsite.api import NotFoundError


class LogEntryNotFound(NotFoundError):
    """No entry with this id (or the id is not a UUID)."""

    def __init__(self):
        super().__init__("Log entry not found.")
