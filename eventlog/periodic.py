"""Periodic tasks the event worker process runs beside the outbox loop (e.g. the purchase
recovery and the sales ledger's folding).

Apps register their tasks in AppConfig.ready() (`register(function, every_setting=...)`): the
function takes no arguments and runs every `settings.<every_setting>` seconds. Every task runs
once at start-up, then every interval, each in a background thread of its own, so a slow task
(a fold after a bulk import) never delays the outbox or another task (the purchase recovery); a
failing task is logged and tried again next time.
"""

import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings

logger = logging.getLogger(__name__)

_REGISTERED: dict[str, tuple[Callable[[], object], str]] = {}


def register(function: Callable[[], object], *, every_setting: str) -> None:
    """Have the worker run `function` every settings.<every_setting> seconds."""
    _REGISTERED[f"{function.__module__}.{function.__qualname__}"] = (function, every_setting)


def registered() -> list[tuple[str, Callable[[], object], float]]:
    """(name, function, interval in seconds) of every registered task."""
    return [
        (name, function, float(getattr(settings, setting)))
        for name, (function, setting) in _REGISTERED.items()
    ]


def run_due(tasks: list[tuple[str, Callable, float]], last: dict[str, float]) -> None:
    for name, function, every in tasks:
        now = time.monotonic()
        if name in last and now - last[name] < every:
            continue
        last[name] = now
        try:
            function()
        except Exception:
            logger.exception("periodic task %s failed; next try in %.1fs", name, every)


def start(stop_event: threading.Event, tasks=None) -> list[threading.Thread]:
    """One thread per task (default: the registered ones); the caller joins them after setting
    stop_event."""
    threads = []
    for task in registered() if tasks is None else tasks:

        def loop(task=task):
            last: dict[str, float] = {}
            tick = max(0.1, task[2] / 4)
            while not stop_event.is_set():
                run_due([task], last)
                stop_event.wait(tick)

        thread = threading.Thread(target=loop, name=f"worker-periodic {task[0]}", daemon=True)
        thread.start()
        threads.append(thread)
    return threads
