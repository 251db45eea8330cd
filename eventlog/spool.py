"""The event spool's file protocol, both ends: the writer (event_record, when the Redis outbox
refuses) and the reader (the outbox worker).

- A writer appends fsync'd JSON lines to its own file `outbox-<host>-<pid>.jsonl` under an
  exclusive flock, after checking that the name still points at the file it opened.
- A reader takes a file by renaming it to `<name>.draining-<owner>` (atomic: one reader wins),
  then waits out any writer holding the old name's lock; later writers see the name gone and
  start a new file, so no line lands in a file already drained.
- A file left `.draining-` by a crashed reader is taken over once idle for `idle_seconds`.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

from shopsite.fsutil import fsync_dir

SUFFIX = ".jsonl"
DRAINING = ".draining-"

_append_lock = threading.Lock()


def directory() -> Path:
    return Path(settings.EVENT_SPOOL_DIR)


def own_path() -> Path:
    return directory() / f"outbox-{socket.gethostname()}-{os.getpid()}{SUFFIX}"


def append(line: str) -> None:
    """Append one JSON line durably to this process's spool file."""
    folder = directory()
    os.makedirs(folder, exist_ok=True)
    path = own_path()
    data = (line + "\n").encode()
    with _append_lock:
        for _ in range(10):
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    current = os.stat(path)
                except FileNotFoundError:
                    continue
                if current.st_ino != os.fstat(fd).st_ino:
                    continue  # a reader took this file away; write to a new one
                os.write(fd, data)
                os.fsync(fd)
                fsync_dir(folder)
                return
            finally:
                os.close(fd)
        raise OSError("event spool file kept moving")


def take(path: Path, *, owner: str, idle_seconds: float) -> Path | None:
    """Rename a spool file to one of `owner`'s names; None if it is not ours (or is gone)."""
    name = path.name
    if name.endswith(SUFFIX) and DRAINING not in name:
        target = path.with_name(f"{name}{DRAINING}{owner}")
    elif DRAINING in name and not name.endswith(f"{DRAINING}{owner}"):
        # Left by a crashed reader: take it over once it has been idle long enough.
        try:
            if time.time() - path.stat().st_mtime < idle_seconds:
                return None
        except FileNotFoundError:
            return None
        target = path.with_name(f"{name.split(DRAINING)[0]}{DRAINING}{owner}")
    elif name.endswith(f"{DRAINING}{owner}"):
        return path
    else:
        return None
    try:
        os.rename(path, target)
    except FileNotFoundError:
        return None
    # Barrier: wait out a writer that opened the old name before the rename; later writers
    # see the name moved (they check under this lock) and start a new file.
    with open(target, "rb") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        fcntl.flock(handle, fcntl.LOCK_UN)
    return target


def candidates() -> list[Path]:
    """Every file in the spool directory, oldest name first (take() decides which are ours)."""
    folder = directory()
    return sorted(folder.iterdir()) if folder.is_dir() else []


def events(path: Path) -> Iterator[tuple[int, str, dict | Exception]]:
    """(line number, raw line, the decoded event or why it could not be decoded) per line."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                yield number, line, json.loads(line)
            except ValueError as exc:  # a torn last line (writer killed mid-write)
                yield number, line, exc
