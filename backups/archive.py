"""Reader for mongodump's archive format (`--archive --gzip`), used to verify an archive end to end
and to learn what it holds: collections, document counts and index specs.

Format (mongo-tools common/archive): a 4-byte magic number, then blocks. A block is a BSON header
document, BSON body documents, and a 4-byte terminator (-1). The first block is the prelude: the
archive header, then one metadata document per collection. Every later block belongs to one
collection (header `{db, collection, EOF, CRC}`); the block with `EOF: true` closes that collection.
An archive whose prelude names a collection that never reaches its EOF block is incomplete.
"""

import gzip
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import bson
from bson import json_util

MAGIC = 0x8199E26D
TERMINATOR = -1
MAX_BSON_SIZE = 16 * 1024 * 1024 + 16 * 1024
_INT32 = struct.Struct("<i")


class ArchiveError(Exception):
    """The file is not a complete, readable mongodump archive."""


@dataclass
class CollectionInfo:
    database: str
    name: str
    documents: int = 0
    bson_bytes: int = 0  # what mongorestore counts as it reads
    indexes: list[dict] = field(default_factory=list)
    options: dict = field(default_factory=dict)
    complete: bool = False


@dataclass
class ArchiveSummary:
    tool_version: str
    server_version: str
    collections: dict[str, CollectionInfo]

    @property
    def counts(self) -> dict[str, int]:
        return {name: info.documents for name, info in sorted(self.collections.items())}

    @property
    def databases(self) -> set[str]:
        return {info.database for info in self.collections.values()}


class _Reader:
    def __init__(self, stream):
        self.stream = stream

    def _exact(self, size: int, what: str) -> bytes:
        data = self.stream.read(size)
        if len(data) != size:
            raise ArchiveError(f"archive is truncated (ends inside {what})")
        return data

    def document_or_terminator(self, what: str, allow_eof: bool = False) -> bytes | None:
        """Raw BSON bytes, None for a terminator; b"" at a clean end of file if allowed."""
        head = self.stream.read(4)
        if not head and allow_eof:
            return b""
        if len(head) != 4:
            raise ArchiveError(f"archive is truncated (ends inside {what})")
        (size,) = _INT32.unpack(head)
        if size == TERMINATOR:
            return None
        if size < 5 or size > MAX_BSON_SIZE:
            raise ArchiveError(f"archive is corrupt ({size} is not a valid BSON length in {what})")
        body = self._exact(size - 4, what)
        if body[-1] != 0:
            raise ArchiveError(f"archive is corrupt (a document in {what} is malformed)")
        return head + body


def read_archive(path: Path) -> ArchiveSummary:
    """Read the whole gzipped archive; ArchiveError if it is truncated, altered or malformed."""
    try:
        with gzip.open(path, "rb") as stream:
            return _parse(_Reader(stream))
    except ArchiveError:
        raise
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise ArchiveError(f"archive is not a valid gzip stream ({exc})") from exc
    except bson.errors.BSONError as exc:
        raise ArchiveError(f"archive is corrupt (bad BSON: {exc})") from exc
    except OSError as exc:
        raise ArchiveError(f"archive cannot be read ({exc.strerror or exc})") from exc


def _parse(reader: _Reader) -> ArchiveSummary:
    magic = reader._exact(4, "the magic number")
    if _INT32.unpack(magic)[0] & 0xFFFFFFFF != MAGIC:
        raise ArchiveError("file is not a mongodump archive (bad magic number)")
    header_raw = reader.document_or_terminator("the prelude")
    if not header_raw:
        raise ArchiveError("archive is corrupt (no prelude header)")
    header = bson.decode(header_raw)
    collections: dict[tuple[str, str], CollectionInfo] = {}
    while (raw := reader.document_or_terminator("the prelude")) is not None:
        meta = bson.decode(raw)
        info = CollectionInfo(database=meta["db"], name=meta["collection"])
        if meta.get("metadata"):
            parsed = json_util.loads(meta["metadata"])
            info.indexes = list(parsed.get("indexes") or [])
            info.options = dict(parsed.get("options") or {})
        collections[(info.database, info.name)] = info

    while True:
        raw = reader.document_or_terminator("a collection block", allow_eof=True)
        if raw == b"":
            break
        if raw is None:
            raise ArchiveError("archive is corrupt (block without a header)")
        block = bson.decode(raw)
        key = (block.get("db"), block.get("collection"))
        info = collections.get(key)
        if info is None:
            raise ArchiveError(
                f"archive is corrupt (data for unknown collection {key[0]}.{key[1]})"
            )
        if info.complete:
            raise ArchiveError(f"archive is corrupt (data after the end of {key[0]}.{key[1]})")
        if block.get("EOF"):
            info.complete = True
        while (document := reader.document_or_terminator(f"{key[0]}.{key[1]}")) is not None:
            info.documents += 1
            info.bson_bytes += len(document)

    missing = sorted(
        f"{db}.{name}" for (db, name), info in collections.items() if not info.complete
    )
    if missing:
        raise ArchiveError(f"archive is incomplete (no end marker for {', '.join(missing)})")
    return ArchiveSummary(
        tool_version=str(header.get("tool_version", "")),
        server_version=str(header.get("server_version", "")),
        collections={info.name: info for info in collections.values()},
    )
