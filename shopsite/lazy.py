"""One store client per process, built on first use: the pattern the Redis, MongoDB and
Cassandra client modules share.

The client is keyed by the process id and the settings it was built from, so a forked worker
(gunicorn, the backup child) builds its own instead of sharing sockets with its parent, and a
test that overrides a store's settings gets a client for them. A build that raises is not cached:
the next call tries again, so the app recovers when the store comes back without a restart.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class PerProcess(Generic[T]):
    def __init__(
        self,
        *,
        build: Callable[[], T],
        settings_key: Callable[[], tuple],
        close: Callable[[T], None],
        close_replaced: bool = False,
    ):
        """close_replaced: also close a client whose settings changed (not just at exit); off
        where callers may still hold the old one (a closed MongoClient cannot be used again)."""
        self._build = build
        self._settings_key = settings_key
        self._close = close
        self._close_replaced = close_replaced
        self._lock = threading.Lock()
        self._value: T | None = None
        self._key: tuple | None = None
        atexit.register(self.close)

    def get(self) -> T:
        key = (os.getpid(), *self._settings_key())
        value = self._value
        if value is not None and self._key == key:
            return value
        with self._lock:
            if self._value is None or self._key != key:
                if self._close_replaced:
                    self._discard()
                self._value = self._build()
                self._key = key
            return self._value

    def close(self) -> None:
        with self._lock:
            self._discard()

    def _discard(self) -> None:
        # Only this process's client: a forked child must not close its parent's sockets.
        if self._value is not None and self._key and self._key[0] == os.getpid():
            self._close(self._value)
        self._value = None
        self._key = None
