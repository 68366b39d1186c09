"""Filesystem buffering: chunks persisted under ``storage.path`` until delivered.

With ``storage.type filesystem`` on an input, each routed piece of a chunk is
written to one file per output before the input is acknowledged, so the
input may move its offset at once and a crash, a restart or a long outage
loses nothing: on start, every chunk file left behind is handed back to its
output.  The file is deleted when that output is done with it.  A chunk read back
for a flush is busy: it is being delivered, so the size limit no longer
drops it.

Files are written atomically (a temporary name, then ``rename``); with
``storage.sync full`` the file and its directory are fsync'ed as well.  Each
file is one JSON header line (tag, record count, optional CRC-32 of the body)
followed by the records as a JSON array of ``[time_ns, record]``.  Events are
not kept in memory while waiting: the runner reads them back when it
flushes, so a large backlog costs disk, not RAM.  A file that cannot be read
back (truncated, bad checksum, not ours) is moved to ``<storage.path>/corrupt``
and counted, never fatal.  ``storage.total_limit_size`` caps one output's
backlog: the oldest chunks of that output are deleted first, with a warning
and a metric.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import time
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from shipper.atomicfile import write_atomic
from shipper.events import Event
from shipper.metrics import Metrics

log = logging.getLogger("shipper.storage")

SUFFIX = ".chunk"


class CorruptChunk(Exception):
    """A chunk file that cannot be read back."""


@dataclass(eq=False)
class StoredChunk:
    """One chunk file for one output."""

    path: Path
    output: str
    tag: str
    size: int
    records: int
    dropped: bool = False
    #: read back for a flush: being delivered, so it can no longer be dropped.
    busy: bool = False


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def _age(path: Path) -> tuple[int, ...]:
    """Sort key putting chunk files in the order they were written."""
    try:
        return tuple(int(part) for part in path.stem.split("-"))
    except ValueError:
        return (2**63,)


@dataclass
class ChunkStore:
    """The chunk files of every output, under one ``storage.path``."""

    root: Path
    sync_full: bool = False
    checksum: bool = False
    metrics: Metrics = field(default_factory=Metrics)
    limits: dict[str, int] = field(default_factory=dict)
    _by_output: dict[str, OrderedDict[Path, StoredChunk]] = field(default_factory=dict)
    _seq: itertools.count[int] = field(default_factory=itertools.count)

    def _directory(self, output: str) -> Path:
        directory = self.root / safe_name(output)
        directory.mkdir(parents=True, exist_ok=True)
        return directory

    def _fsync_dir(self, directory: Path) -> None:
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def write(self, output: str, tag: str, events: list[Event]) -> StoredChunk:
        """Persist events for one output; returns once the file is in place."""
        body = orjson.dumps([[ts, record] for ts, record in events])
        header = {"tag": tag, "records": len(events), "crc32": zlib.crc32(body) if self.checksum else None}
        data = orjson.dumps(header) + b"\n" + body
        directory = self._directory(output)
        name = f"{time.time_ns()}-{os.getpid()}-{next(self._seq)}{SUFFIX}"
        final = directory / name
        write_atomic(final, data, self.sync_full)
        if self.sync_full:
            self._fsync_dir(directory)
        chunk = StoredChunk(final, output, tag, len(data), len(events))
        self._track(chunk)
        return chunk

    def _track(self, chunk: StoredChunk) -> None:
        chunks = self._by_output.setdefault(chunk.output, OrderedDict())
        chunks[chunk.path] = chunk
        self._enforce_limit(chunk.output)
        self.metrics.set("shipper_storage_chunks", len(chunks), name=chunk.output)

    def _enforce_limit(self, output: str) -> None:
        limit = self.limits.get(output)
        chunks = self._by_output.get(output)
        if not limit or not chunks:
            return
        total = sum(c.size for c in chunks.values())
        for oldest in list(chunks.values())[:-1]:
            if total <= limit:
                break
            if oldest.busy:
                continue
            del chunks[oldest.path]
            total -= oldest.size
            oldest.dropped = True
            oldest.path.unlink(missing_ok=True)
            self.metrics.inc("shipper_storage_dropped_chunks_total", name=output)
            self.metrics.inc("fluentbit_output_dropped_records_total", oldest.records, name=output)
            log.warning(
                "%s: storage.total_limit_size (%d bytes) reached: dropped the oldest chunk (%d records)",
                output, limit, oldest.records,
            )

    def read(self, chunk: StoredChunk) -> list[Event]:
        """The events of a chunk; raises CorruptChunk after moving a bad file aside."""
        try:
            data = chunk.path.read_bytes()
            events = self._decode(data)
            chunk.busy = True
            return events
        except (OSError, ValueError, CorruptChunk) as exc:
            self.quarantine(chunk.path, str(exc))
            raise CorruptChunk(str(exc)) from exc

    @staticmethod
    def _decode(data: bytes) -> list[Event]:
        head, sep, body = data.partition(b"\n")
        if not sep:
            raise CorruptChunk("no header line")
        header = orjson.loads(head)
        if not isinstance(header, dict) or "tag" not in header:
            raise CorruptChunk("header is not a shipper chunk header")
        if header.get("crc32") is not None and zlib.crc32(body) != header["crc32"]:
            raise CorruptChunk("checksum mismatch")
        events = orjson.loads(body)
        if len(events) != header.get("records"):
            raise CorruptChunk("record count mismatch")
        return [(int(ts), record) for ts, record in events]

    def delete(self, chunk: StoredChunk) -> None:
        """The output is done with this chunk."""
        chunks = self._by_output.get(chunk.output)
        if chunks is not None:
            chunks.pop(chunk.path, None)
            self.metrics.set("shipper_storage_chunks", len(chunks), name=chunk.output)
        chunk.path.unlink(missing_ok=True)

    def quarantine(self, path: Path, reason: str) -> None:
        corrupt = self.root / "corrupt"
        corrupt.mkdir(parents=True, exist_ok=True)
        target = corrupt / f"{path.parent.name}-{path.name}"
        try:
            os.replace(path, target)
        except OSError:
            target = path
        self.metrics.inc("shipper_storage_corrupt_chunks_total")
        log.error("chunk file %s cannot be read (%s); moved to %s", path, reason, target)

    def recover(self) -> list[StoredChunk]:
        """Chunk files left by an earlier run, oldest first; unreadable ones are moved aside."""
        found: list[StoredChunk] = []
        if not self.root.is_dir():
            return found
        for directory in sorted(p for p in self.root.iterdir() if p.is_dir() and p.name != "corrupt"):
            for temp in directory.glob(f"*{SUFFIX}.tmp"):
                temp.unlink(missing_ok=True)  # never renamed: its input was not acknowledged
            for path in sorted(directory.glob(f"*{SUFFIX}"), key=_age):
                try:
                    data = path.read_bytes()
                    events = self._decode(data)
                    tag = orjson.loads(data.partition(b"\n")[0])["tag"]
                except (OSError, ValueError, CorruptChunk) as exc:
                    self.quarantine(path, str(exc))
                    continue
                chunk = StoredChunk(path, directory.name, tag, len(data), len(events))
                self._track(chunk)
                found.append(chunk)
        return found

    def stats(self) -> dict[str, dict[str, int]]:
        """Chunks and bytes waiting per output, for ``/api/v1/storage``."""
        return {
            output: {"chunks": len(chunks), "bytes": sum(c.size for c in chunks.values())}
            for output, chunks in self._by_output.items()
        }
