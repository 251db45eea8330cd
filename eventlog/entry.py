"""An event-log entry: the value every layer of eventlog passes around."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from shopsite.timeutil import iso


@dataclass(frozen=True)
class LogEntry:
    event_id: uuid.UUID
    event_type: str
    user_id: str
    timestamp: datetime
    metadata: str | None

    @property
    def day(self) -> date:
        return self.timestamp.date()

    @property
    def hour(self) -> datetime:
        """The UTC hour it falls in (its events_by_hour partition)."""
        return self.timestamp.replace(minute=0, second=0, microsecond=0)

    def as_dict(self) -> dict:
        return {
            "event_id": str(self.event_id),
            "user_id": self.user_id,
            "event_type": self.event_type,
            "timestamp": iso(self.timestamp),
            "metadata": self.metadata,
        }
