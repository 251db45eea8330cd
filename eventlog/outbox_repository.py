"""The event outbox in Redis: the one eventlog module that touches Redis.

- Writers append an event as a stream entry (`event_record`), bounded at EVENT_OUTBOX_MAX_PENDING.
- Workers read it through the consumer group GROUP (OutboxGroup): a crashed worker's entries stay
  pending and are claimed by another; an entry is acknowledged and deleted once Cassandra holds it,
  malformed ones go to the dead-letter stream `<stream>:dead`.
- The operator's view reads its length, its oldest entry and the worker's heartbeat.
"""

from __future__ import annotations

import redis.exceptions
from django.conf import settings

from shopsite.redis_client import get_redis, lua_script

GROUP = "eventlog-workers"
HEARTBEAT_TTL_SECONDS = 7 * 24 * 3600

# Append only while the stream holds fewer than ARGV[2] entries (one atomic round trip).
_BOUNDED_XADD = """
if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[2]) then return false end
return redis.call('XADD', KEYS[1], '*', 'event', ARGV[1])
"""


class OutboxFull(Exception):
    """The outbox holds EVENT_OUTBOX_MAX_PENDING events: the event goes to the spool."""


def stream() -> str:
    return settings.EVENT_OUTBOX_STREAM


def append(line: str) -> None:
    """XADD to the outbox unless it is at its ceiling (OutboxFull)."""
    # One Script per process (EVALSHA): the body is not sent with every event.
    added = lua_script(_BOUNDED_XADD)(
        keys=[stream()], args=[line, settings.EVENT_OUTBOX_MAX_PENDING]
    )
    if not added:
        raise OutboxFull()


def append_to(batch, line: str, on_refused) -> None:
    """Queue the bounded XADD in a redis_client.Batch (sent with other modules' commands);
    on_refused(exc) gets OutboxFull or the Redis error if the event was not appended."""

    def on_reply(reply) -> None:
        if isinstance(reply, Exception) or not reply:
            on_refused(reply if isinstance(reply, Exception) else OutboxFull())

    batch.eval(_BOUNDED_XADD, [stream()], [line, settings.EVENT_OUTBOX_MAX_PENDING], on_reply)


def length() -> int:
    return get_redis().xlen(stream())


def oldest_id() -> str | None:
    """The id of the oldest entry (it starts with the milliseconds it was added at), or None."""
    oldest = get_redis().xrange(stream(), "-", "+", count=1)
    return oldest[0][0] if oldest else None


# --- Worker heartbeat (the operator's view: "worker last seen") --------------------------------
def heartbeat_key() -> str:
    return f"{stream()}:worker-heartbeat"


def heartbeat_set(value: str) -> None:
    get_redis().set(heartbeat_key(), value, ex=HEARTBEAT_TTL_SECONDS)


def heartbeat_get() -> str | None:
    return get_redis().get(heartbeat_key())


# --- The workers' consumer group -----------------------------------------------------------------
class OutboxGroup:
    """One consumer's view of the outbox stream through the workers' consumer group."""

    def __init__(self, consumer: str):
        self.consumer = consumer
        self._ready = False

    def ensure(self) -> None:
        """Create the group (and the stream) unless it exists."""
        if self._ready:
            return
        try:
            # From id 0: events queued before any worker existed are delivered too.
            get_redis().xgroup_create(stream(), GROUP, id="0", mkstream=True)
        except redis.exceptions.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._ready = True

    def _call(self, fn):
        """Run a stream command; recreate the group if Redis lost it (flushed, restarted empty)."""
        self.ensure()
        try:
            return fn()
        except redis.exceptions.ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            self._ready = False
            self.ensure()
            return fn()

    def read_own_pending(self, count: int) -> list:
        """Entries delivered to this consumer but not acknowledged (a failed earlier round)."""
        reply = self._call(
            lambda: get_redis().xreadgroup(GROUP, self.consumer, {stream(): "0"}, count=count)
        )
        return reply[0][1] if reply else []

    def read_new(self, count: int, block_ms: int | None = None) -> list:
        """Entries never delivered to any consumer; block_ms: wait that long for one."""
        reply = self._call(
            lambda: get_redis().xreadgroup(
                GROUP, self.consumer, {stream(): ">"}, count=count, block=block_ms
            )
        )
        return reply[0][1] if reply else []

    def claim_abandoned(self, min_idle_ms: int, count: int) -> list:
        """Up to about `count` entries other consumers left unacknowledged for min_idle_ms."""
        claimed: list = []
        start = "0-0"
        while len(claimed) < count:
            reply = self._call(
                lambda s=start: get_redis().xautoclaim(
                    stream(), GROUP, self.consumer, min_idle_ms, start_id=s, count=count
                )
            )
            start, entries = reply[0], reply[1]
            claimed.extend(e for e in entries if e[1] is not None)
            if start == "0-0":
                break
        return claimed

    def forget_idle_consumers(self, idle_ms: int) -> None:
        """Drop names of consumers idle this long that hold nothing (crashed workers' names)."""
        for consumer in get_redis().xinfo_consumers(stream(), GROUP):
            if (
                consumer["name"] != self.consumer
                and consumer["pending"] == 0
                and consumer["idle"] > idle_ms
            ):
                get_redis().xgroup_delconsumer(stream(), GROUP, consumer["name"])

    def settle(self, ids: list[str], dead: list[tuple[str, dict]]) -> None:
        """Acknowledge and delete entries, the `dead` (id, fields) copied to `<stream>:dead`."""
        pipe = get_redis().pipeline(transaction=True)
        for entry_id, fields in dead:
            pipe.xadd(f"{stream()}:dead", {**fields, "source_id": entry_id})
        pipe.xack(stream(), GROUP, *ids)
        pipe.xdel(stream(), *ids)
        pipe.execute()

    def empty(self) -> bool:
        """Nothing pending in the group and nothing left in the stream."""
        info = get_redis().xpending(stream(), GROUP)
        return info["pending"] == 0 and get_redis().xlen(stream()) == 0

    def leave(self) -> None:
        """Remove this consumer from the group if it holds no entries (restarts add new names)."""
        pending = get_redis().xpending_range(stream(), GROUP, "-", "+", 1, self.consumer)
        if not pending:
            get_redis().xgroup_delconsumer(stream(), GROUP, self.consumer)
