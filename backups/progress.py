"""Progress of a long backup or restore: a tqdm bar on a terminal, plain log lines otherwise (cron,
docker logs, a file), nothing for the dashboard's background runs (the page polls the status).

A run reports steps; a step has a total (documents) and moves forward with update(done).
"""

import logging
import os
import re
import time
from typing import TextIO

from tqdm import tqdm

logger = logging.getLogger(__name__)


class Progress:
    """Reports nothing: the base, and what services use when no one is watching."""

    def start(self, step: str, total: int | None, unit: str = "documents") -> None:
        pass

    def update(self, done: int) -> None:
        pass

    def finish(self) -> None:
        pass

    def note(self, message: str) -> None:
        pass


class LogProgress(Progress):
    """One log line when a step starts, one each time it passes a tenth of its total, one when it
    ends: readable in a log, and a 2-hour dump still writes only a dozen lines."""

    def __init__(self, log: logging.Logger = logger):
        self.log = log
        self.step = ""
        self.total: int | None = None
        self.unit = ""
        self.done = 0
        self.tenths = 0
        self.started = 0.0

    def _line(self, suffix: str = "") -> None:
        if self.total:
            percent = min(100, self.done * 100 // self.total)
            counted = f"{self.done}/{self.total} {self.unit} ({percent}%)"
        else:
            counted = f"{self.done} {self.unit}"
        self.log.info("%s: %s%s", self.step, counted, suffix)

    def start(self, step: str, total: int | None, unit: str = "documents") -> None:
        self.step, self.total, self.unit = step, total, unit
        self.done, self.tenths, self.started = 0, 0, time.monotonic()
        self._line()

    def update(self, done: int) -> None:
        self.done = max(self.done, done)
        if self.total:
            tenths = min(10, self.done * 10 // self.total)
            if tenths > self.tenths and tenths < 10:
                self.tenths = tenths
                self._line()

    def finish(self) -> None:
        if self.total:
            self.done = max(self.done, self.total)
        self._line(f", done in {time.monotonic() - self.started:.1f} s")

    def note(self, message: str) -> None:
        self.log.info("%s", message)


class TerminalProgress(Progress):
    """A tqdm bar per step."""

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.bar: tqdm | None = None
        try:
            size = os.get_terminal_size(stream.fileno())
        except (OSError, ValueError):
            size = os.terminal_size((0, 0))
        # tqdm hides its bar on a terminal that reports no size (0 columns or 0 lines).
        self.columns, self.lines = size.columns or 80, size.lines or 24

    def start(self, step: str, total: int | None, unit: str = "documents") -> None:
        self.finish()
        self.bar = tqdm(
            total=total,
            desc=step,
            unit=f" {unit}",
            file=self.stream,
            ncols=self.columns,
            nrows=self.lines,
        )

    def update(self, done: int) -> None:
        if self.bar is not None and done > self.bar.n:
            self.bar.update(done - self.bar.n)

    def finish(self) -> None:
        if self.bar is not None:
            if self.bar.total and self.bar.n < self.bar.total:
                self.bar.update(self.bar.total - self.bar.n)
            self.bar.close()
            self.bar = None

    def note(self, message: str) -> None:
        tqdm.write(message, file=self.stream)


def progress_for(stream: TextIO) -> Progress:
    """A bar if a person watches `stream`, log lines if not."""
    isatty = getattr(stream, "isatty", None)
    return TerminalProgress(stream) if isatty and isatty() else LogProgress()


# --- What the tools say about their progress ---------------------------------------------------

# mongodump: "<time>\t[####......]  shop.orders  4101/20000  (20.5%)"
_DUMP_BAR = re.compile(r"\]\s+[^.\s]+\.(\S+)\s+(\d+)/\d+")
# mongodump: "<time>\tdone dumping shop.orders (20000 documents)"
_DUMP_DONE = re.compile(r"done dumping [^.\s]+\.(\S+) \((\d+) documents?\)")
# mongorestore: "<time>\tshop.orders  2.65MB" (BSON bytes read so far; no total from an archive)
_RESTORE_BYTES = re.compile(r"^\S+\s+[^.\s]+\.(\S+)\s+([\d.]+)([KMGT]?B)\s*$")
# mongorestore: "<time>\tfinished restoring shop.orders (20000 documents, 0 failures)"
_RESTORE_DONE = re.compile(r"finished restoring [^.\s]+\.(\S+) \((\d+) documents?")
_BYTE_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}


class ToolProgress:
    """Turns the tool's stderr lines into documents done, summed over collections.

    For mongorestore, which counts bytes, `sizes` ({collection: (documents, BSON bytes)}, from the
    archive) converts a collection's bytes read into documents."""

    def __init__(self, progress: Progress, sizes: dict[str, tuple[int, int]] | None = None):
        self.progress = progress
        self.sizes = sizes or {}
        self.done: dict[str, int] = {}

    def _set(self, collection: str, documents: int) -> None:
        self.done[collection] = max(self.done.get(collection, 0), documents)
        self.progress.update(sum(self.done.values()))

    def __call__(self, line: str) -> None:
        counted = _DUMP_BAR.search(line) or _DUMP_DONE.search(line) or _RESTORE_DONE.search(line)
        if counted:
            self._set(counted.group(1), int(counted.group(2)))
        elif (read := _RESTORE_BYTES.search(line)) and read.group(1) in self.sizes:
            documents, size = self.sizes[read.group(1)]
            fraction = float(read.group(2)) * _BYTE_UNITS[read.group(3)] / max(size, 1)
            # Never the last document: "finished restoring" says when it is done.
            self._set(read.group(1), min(max(documents - 1, 0), int(documents * fraction)))
