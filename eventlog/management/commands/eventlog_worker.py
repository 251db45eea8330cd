"""Run the event-log outbox worker: Redis stream + spool files → Cassandra."""

import logging
import signal

from django.core.management.base import BaseCommand, CommandError

from eventlog.worker import OutboxWorker
from shopsite.warmup import warm_up

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Move queued events into Cassandra. Runs until SIGTERM/SIGINT (finishing the batch in "
        "hand); --once does one round, --drain runs until the outbox and spool are empty."
    )

    def add_arguments(self, parser):
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--once", action="store_true", help="one round, then exit")
        mode.add_argument(
            "--drain",
            action="store_true",
            help="until the outbox is empty (also takes over other consumers' pending entries)",
        )
        parser.add_argument("--timeout", type=float, default=120.0, help="--drain: give up after")
        parser.add_argument("--consumer", default=None, help="consumer name (default host-pid)")
        parser.add_argument("--batch-size", type=int, default=None)

    def handle(
        self,
        *args,
        once=False,
        drain=False,
        timeout=120.0,
        consumer=None,
        batch_size=None,
        **options,
    ):
        worker = OutboxWorker(consumer=consumer, batch_size=batch_size)
        if once:
            written = worker.step(block=False)
            self.stdout.write(f"eventlog worker: {written} events written")
            return
        if drain:
            try:
                stats = worker.drain(timeout=timeout)
            except TimeoutError as exc:
                raise CommandError(str(exc))
            self.stdout.write(f"eventlog worker: drained, {stats.written} events written")
            return

        warm_up()  # the long-running mode: its store connections from the start

        def on_signal(signum, frame):
            logger.info("eventlog worker: signal %d, stopping after the current batch", signum)
            worker.stop()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        worker.run()
