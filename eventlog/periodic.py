"""Periodic tasks the event worker process runs beside the outbox loop (e.g. the purchase
recovery, orders.services.order_intents_recover).

WORKER_PERIODIC_TASKS (settings) lists (dotted path of a function without arguments, interval in
seconds). Every task runs once at start-up, then every interval, each in a background thread of its
own, so a slow task (a summary refresh after a bulk import) never delays the outbox or another task
(the purchase recovery); a failing task is logged and tried again next time.
"""

import logging
import threading
import time

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


def run_due(tasks: list[tuple[str, float]], last: dict[str, float]) -> None:
    for path, every in tasks:
        now = time.monotonic()
        if path in last and now - last[path] < every:
            continue
        last[path] = now
        try:
            import_string(path)()
        except Exception:
            logger.exception("periodic task %s failed; next try in %.1fs", path, every)


def start(stop_event: threading.Event) -> list[threading.Thread]:
    """One thread per configured task; the caller joins them after setting stop_event."""
    threads = []
    for path, every in settings.WORKER_PERIODIC_TASKS:
        task = [(path, float(every))]

        def loop(task=task):
            last: dict[str, float] = {}
            tick = max(0.1, task[0][1] / 4)
            while not stop_event.is_set():
                run_due(task, last)
                stop_event.wait(tick)

        thread = threading.Thread(target=loop, name=f"worker-periodic {path}", daemon=True)
        thread.start()
        threads.append(thread)
    return threads
