"""The worker's periodic tasks: each runs on its own, so a slow one never holds up another."""

import threading
import time

from eventlog import periodic

release = threading.Event()
ticks: list[float] = []


def blocking_task():
    release.wait(10)


def counting_task():
    ticks.append(time.monotonic())


def test_the_apps_register_their_tasks():
    names = {name for name, _, _ in periodic.registered()}
    assert {
        "orders.services.order_intents_recover",
        "orders.services.order_status_changes_recover",
        "orders.services.sales_fold",
    } <= names


def test_a_slow_task_does_not_delay_another():
    tasks = [("blocking", blocking_task, 0.1), ("counting", counting_task, 0.1)]
    release.clear()
    ticks.clear()
    stop = threading.Event()
    threads = periodic.start(stop, tasks)
    try:
        time.sleep(1.0)
        # The blocking task is still inside its first run, yet the other kept its interval.
        assert len(ticks) >= 4
    finally:
        stop.set()
        release.set()
        for thread in threads:
            thread.join(timeout=10)
    assert len(threads) == 2 and not any(thread.is_alive() for thread in threads)
