"""The outbox worker: moves queued events (Redis stream + local spool files) into Cassandra.
The stream's commands are in outbox_repository.py, the spool's file protocol in spool.py, the
tasks the worker process runs beside this loop in periodic.py.

- Reads the stream through a consumer group, so several workers share the load and a crashed
  worker's unacknowledged entries are claimed by another (XAUTOCLAIM after they idle).
- Acknowledges and deletes stream entries only after Cassandra accepted every row of them;
  while Cassandra is down it keeps the batch and retries with backoff. Inserts are keyed by
  event_id, so a re-delivered event is written once.
- Malformed entries go to a dead-letter stream (`<stream>:dead`) instead of blocking the queue.
- The cost per event falls as load rises: after a blocking read returns a partial batch, the
  worker lingers briefly (EVENT_WORKER_LINGER_MS) and reads again, so a steady trickle is
  written as one batch (concurrent Cassandra writes) and acknowledged with one XACK.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import tenacity
from django.conf import settings

from . import outbox_repository as outbox
from . import periodic, spool
from .manager import CassandraLogManager, LogEntry, get_log_manager
from .services import entry_from_event, worker_heartbeat_record

logger = logging.getLogger(__name__)

CONSUMER_FORGET_MS = 24 * 3600 * 1000


@dataclass
class WorkerStats:
    written: int = 0
    acked: int = 0
    batches: int = 0  # rounds of stream entries written and acknowledged together
    spooled: int = 0
    dead: int = 0
    retries: int = 0
    errors: list[str] = field(default_factory=list)


class OutboxWorker:
    def __init__(
        self,
        *,
        manager: CassandraLogManager | None = None,
        consumer: str | None = None,
        batch_size: int | None = None,
        block_ms: int | None = None,
        linger_ms: int | None = None,
        claim_idle_ms: int | None = None,
        max_backoff: float = 10.0,
        stop_event: threading.Event | None = None,
    ):
        self.manager = manager
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.batch_size = batch_size or settings.EVENT_WORKER_BATCH_SIZE
        # Block below the Redis socket timeout, or the wait itself would look like an outage.
        self.block_ms = block_ms or int(min(1.0, settings.BACKEND_TIMEOUT_SECONDS / 2) * 1000)
        self.claim_idle_ms = (
            claim_idle_ms
            if claim_idle_ms is not None
            else int(settings.EVENT_WORKER_CLAIM_IDLE_SECONDS * 1000)
        )
        self.linger = (
            linger_ms if linger_ms is not None else settings.EVENT_WORKER_LINGER_MS
        ) / 1000
        self.max_backoff = max_backoff
        self.stop_event = stop_event or threading.Event()
        self.stats = WorkerStats()
        self.outbox = outbox.OutboxGroup(self.consumer)
        # Entries delivered to this consumer may be unacknowledged (a past run, a failed round).
        self._own_pending = True
        self._last_run: dict[str, float] = {}

    def _manager(self) -> CassandraLogManager:
        return self.manager or get_log_manager()

    def stop(self) -> None:
        self.stop_event.set()

    # --- main loops ------------------------------------------------------------------------------
    def run(self) -> None:
        """Until stop(): drain spool files, claim abandoned entries, read new ones, write them."""
        logger.info("eventlog worker %s started on stream %s", self.consumer, outbox.stream())
        periodic_threads = periodic.start(self.stop_event)  # purchase recovery, summaries
        retrying = self._retrying(
            first=0.5,
            most=self.max_backoff,
            stop=tenacity.stop_when_event_set(self.stop_event),
            sleep=self.stop_event.wait,  # stop() cuts a back-off short
        )
        while not self.stop_event.is_set():
            try:
                retrying(self.step, block=True)
            except Exception:
                break  # stopped while a backend was down
        for thread in periodic_threads:
            thread.join(timeout=30)
        self._leave_group()
        logger.info("eventlog worker %s stopped", self.consumer)

    def _leave_group(self) -> None:
        """Remove this consumer from the group if it holds no entries (restarts add new names)."""
        try:
            self.outbox.leave()
        except Exception as exc:
            logger.info("eventlog worker %s left its name in the group: %s", self.consumer, exc)

    def drain(self, timeout: float = 60.0) -> WorkerStats:
        """Process until the outbox (own and abandoned entries) and the spool are empty.

        Retries while a backend is down; TimeoutError if not empty within `timeout` seconds.
        """
        deadline = time.monotonic() + timeout
        # Give up before a back-off would end past the deadline.
        retrying = self._retrying(
            first=0.2,
            most=2.0,
            stop=lambda state: time.monotonic() + (state.upcoming_sleep or 0) > deadline,
            sleep=time.sleep,
            keep_errors=True,
        )
        while True:
            try:
                if retrying(self._drain_round):
                    return self.stats
            except Exception as exc:
                raise TimeoutError(
                    f"event outbox not drained: {type(exc).__name__}: {exc}"
                ) from exc
            if time.monotonic() > deadline:
                raise TimeoutError("event outbox not drained in time")

    def _drain_round(self) -> bool:
        """One round of drain(); True once nothing was left."""
        return self.step(block=False, claim_all=True) == 0 and self.outbox.empty()

    def _retrying(
        self, *, first: float, most: float, stop, sleep, keep_errors: bool = False
    ) -> tenacity.Retrying:
        """Retry a round while a backend is down: back-off doubling from `first` up to `most`,
        ended by stop(); the last error is re-raised when it gives up. keep_errors: list each
        error's name in stats (drain() only: a long-running worker would grow the list)."""

        def note(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception()
            self.stats.retries += 1
            if keep_errors:
                self.stats.errors.append(type(exc).__name__)
            _log_retry(exc, state.upcoming_sleep)

        return tenacity.Retrying(
            wait=tenacity.wait_exponential(multiplier=first, max=most),
            stop=stop,
            sleep=sleep,
            before_sleep=note,
            reraise=True,
        )

    def step(self, *, block: bool, claim_all: bool = False) -> int:
        """One round; returns how many events it wrote. Raises on a backend outage."""
        worker_heartbeat_record(consumer=self.consumer)  # the operator's "worker last seen"
        done = self.drain_spool()
        self.outbox.ensure()
        try:
            if self._own_pending or claim_all:
                own = self.outbox.read_own_pending(self.batch_size)
                done += self._process(own)
                self._own_pending = len(own) >= self.batch_size  # a full batch: maybe more
            if claim_all or self._due("claim", max(self.claim_idle_ms / 1000, 1.0)):
                done += self._process(self._claim_abandoned(0 if claim_all else self.claim_idle_ms))
            done += self._process(self._read_batch(block))
        except BaseException:
            # Whatever was delivered to us and not acknowledged is retried first next round.
            self._own_pending = True
            raise
        return done

    def _due(self, task: str, every_seconds: float) -> bool:
        """True at most once per every_seconds for a periodic task of the loop."""
        now = time.monotonic()
        if now - self._last_run.get(task, float("-inf")) < every_seconds:
            return False
        self._last_run[task] = now
        return True

    # --- the outbox stream ---------------------------------------------------------------------
    def _read_batch(self, block: bool) -> list:
        """New entries; a partial batch waits `linger` for more, so a trickle is written and
        acknowledged in one round instead of a round every few events."""
        entries = self.outbox.read_new(self.batch_size, self.block_ms if block else None)
        if block and entries and len(entries) < self.batch_size and self.linger > 0:
            self.stop_event.wait(self.linger)
            entries += self.outbox.read_new(self.batch_size - len(entries))
        return entries

    def _claim_abandoned(self, min_idle_ms: int) -> list:
        claimed = self.outbox.claim_abandoned(min_idle_ms, self.batch_size)
        self.outbox.forget_idle_consumers(CONSUMER_FORGET_MS)
        if claimed:
            logger.info(
                "eventlog worker %s claimed %d abandoned entries", self.consumer, len(claimed)
            )
        return claimed

    def _process(self, entries: list) -> int:
        """Write a batch to Cassandra, then ack+delete it; raises (acks nothing) on failure."""
        if not entries:
            return 0
        good: list[LogEntry] = []
        bad: list[tuple[str, dict]] = []
        for entry_id, fields in entries:
            if not fields:  # pending but deleted from the stream already: only the ack is left
                continue
            try:
                good.append(entry_from_event(json.loads(fields["event"])))
            except Exception as exc:
                logger.error("eventlog worker: malformed outbox entry %s: %s", entry_id, exc)
                bad.append((entry_id, fields))
        if good:
            self._manager().insert_many(_unique(good))
        ids = [entry_id for entry_id, _ in entries]
        self.outbox.settle(ids, bad)
        self.stats.written += len(good)
        self.stats.acked += len(ids)
        self.stats.batches += 1
        self.stats.dead += len(bad)
        return len(good)

    # --- local spool files -----------------------------------------------------------------------
    def drain_spool(self) -> int:
        """Write the events spooled while Redis was down, file by file; delete each when stored."""
        done = 0
        for path in spool.candidates():
            if self.stop_event.is_set():
                break
            taken = self._take(path)
            if taken is not None:
                done += self._drain_file(taken)
        return done

    def _take(self, path: Path) -> Path | None:
        return spool.take(path, owner=self.consumer, idle_seconds=self.claim_idle_ms / 1000)

    def _drain_file(self, path: Path) -> int:
        good: list[LogEntry] = []
        for number, line, event in spool.events(path):
            try:
                if isinstance(event, Exception):
                    raise event
                good.append(entry_from_event(event))
            except Exception as exc:
                # A torn last line (writer killed mid-write) or a bad event: keep it in the log.
                logger.error(
                    "eventlog spool %s line %d unusable (%s): %r", path.name, number, exc, line
                )
                self.stats.dead += 1
        unique = _unique(good)
        for start in range(0, len(unique), self.batch_size):
            self._manager().insert_many(unique[start : start + self.batch_size])
        path.unlink()
        self.stats.spooled += len(unique)
        self.stats.written += len(unique)
        return len(unique)


def _log_retry(exc: BaseException, seconds: float) -> None:
    logger.warning("eventlog worker: %s: %s; retrying in %.1fs", type(exc).__name__, exc, seconds)


def _unique(entries: list[LogEntry]) -> list[LogEntry]:
    seen: dict[uuid.UUID, LogEntry] = {}
    for entry in entries:
        seen.setdefault(entry.event_id, entry)
    return list(seen.values())
