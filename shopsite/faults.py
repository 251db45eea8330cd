"""Fault injection for crash tests: a named step of a write path can pause or kill the process.

Test-only, off unless FAULT_INJECTION_FILE names a file path (settings read it from the
environment; empty in production: then a fault point costs one attribute lookup). A test
arms a fault by writing "<step>=exit" or "<step>=pause:<seconds>" into that file; the first
process reaching the step removes the file and acts, so exactly one request of a running
gunicorn server is hit and its replacement worker serves the retry normally.

Steps of the purchase (orders/purchase.py, catalog/services.py): after_intent, after_lock,
after_stock_<n> (after the n-th product's stock was taken), before_commit, after_commit,
after_store (the orders are stored, the response not yet written).
"""

import logging
import os
import time

from django.conf import settings

logger = logging.getLogger(__name__)


def fault_point(name: str) -> None:
    path = settings.FAULT_INJECTION_FILE
    if not path:
        return
    try:
        with open(path) as handle:
            step, _, action = handle.read().strip().partition("=")
    except FileNotFoundError:
        return
    if step != name:
        return
    try:
        os.unlink(path)  # one process wins the file: the fault fires once per arming
    except FileNotFoundError:
        return
    logger.warning("fault injection: %s at step %s", action or "exit", name)
    if action.startswith("pause:"):
        time.sleep(float(action.split(":", 1)[1]))
    else:
        os._exit(70)


def arm(step: str, action: str = "exit") -> None:
    """Plan one fault (tests)."""
    with open(settings.FAULT_INJECTION_FILE, "w") as handle:
        handle.write(f"{step}={action}")
