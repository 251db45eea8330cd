"""Durable file writes: what a crash-safe rename or append needs besides the file's own fsync."""

import os


def fsync_dir(directory: str | os.PathLike) -> None:
    """Flush a directory's entries (a new or renamed file survives a power loss only then)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
