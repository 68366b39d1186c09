"""The journal, read through libsystemd (the cysystemd binding) on a thread of its own.

libsystemd's journal objects are thread-agnostic but must be used by one
thread for their whole life, and every call may touch the disk, so each
:class:`Journal` owns a single-thread executor: it opens the journal there
and makes every later call there.  The event loop only waits on the
journal's file descriptor (inotify underneath), which needs no call into
libsystemd.

Matches follow Fluent Bit's ``in_systemd``: after each ``Systemd_Filter`` it
adds a disjunction (``Or``, the default) or a conjunction (``And``), so with
``Or`` an entry is read when any filter matches and with ``And`` only when
all do, even two filters on the same field (journald itself would OR those).
"""

from __future__ import annotations

import asyncio
import functools
import operator
import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson

T = TypeVar("T")

#: what sd_journal_add_match accepts: FIELD=value, FIELD of A-Z, 0-9 and _, not starting with __.
MATCH_RE = re.compile(r"^(?!__)[A-Z0-9_]+=")
#: the field whose value replaces ``*`` in the Tag.
UNIT_FIELD = "_SYSTEMD_UNIT"
#: the unit name used in the Tag when an entry has none (Fluent Bit's word).
NO_UNIT = "unknown"

Value = str | list[str]


@dataclass(frozen=True, slots=True)
class Start:
    """Where reading starts when there is no cursor to resume from."""

    from_tail: bool = False
    #: microseconds since the epoch (``Read_Since_Minutes_Ago``); 0 for none.
    since_usec: int = 0


@dataclass(slots=True)
class Entry:
    """One journal entry, made into a record on the journal's thread."""

    cursor: str
    time_ns: int
    unit: str
    record: dict[str, Value]
    size: int


@dataclass(frozen=True, slots=True)
class Shape:
    """How fields become record keys (``Strip_Underscores``, ``Lowercase``, ``Max_Fields``)."""

    strip_underscores: bool = False
    lowercase: bool = False
    max_fields: int = 8000


def make_record(data: dict[str, Any], shape: Shape) -> tuple[dict[str, Value], int]:
    """The record of an entry's fields, and its size in bytes (about its JSON size).

    A field that occurs more than once becomes a list, as in Fluent Bit, also
    when two fields become the same key only after stripping or lowercasing.
    At most ``max_fields`` field values are kept, in the journal's order.
    """
    if not (shape.strip_underscores or shape.lowercase):
        # the binding's dict already is the record (repeated fields as lists); its JSON size is
        # what Mem_Buf_Limit counts (cheaper to get from orjson than by adding up lengths)
        values = len(data)
        if list in map(type, data.values()):
            values += sum(len(v) - 1 for v in data.values() if type(v) is list)
        if values <= shape.max_fields:
            return data, len(orjson.dumps(data))
    return _reshaped(data, shape)


def _reshaped(data: dict[str, Any], shape: Shape) -> tuple[dict[str, Value], int]:
    record: dict[str, Value] = {}
    kept = size = 0
    for raw_key, raw in data.items():
        key = raw_key[1:] if shape.strip_underscores and raw_key.startswith("_") else raw_key
        if shape.lowercase:
            key = key.lower()
        for value in raw if isinstance(raw, list) else (raw,):
            if kept >= shape.max_fields:
                return record, size
            kept += 1
            size += len(key) + len(value)
            old = record.get(key)
            if old is None:
                record[key] = value
            elif isinstance(old, list):
                old.append(value)
            else:
                record[key] = [old, value]
    return record, size


class Journal:
    """A journal directory (or the local journal) opened with a set of matches."""

    def __init__(self, path: str | None, filters: list[str], filter_and: bool, shape: Shape) -> None:
        self.path = path
        self.filters = filters
        self.filter_and = filter_and
        self.shape = shape
        self.fd = -1
        self._reader: Any = None  # cysystemd's JournalReader
        #: the entry found while resuming from a cursor that no longer exists; read first.
        self._held: Any = None  # a cysystemd JournalEntry
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal")

    async def _call(self, func: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(func, *args))

    # -- on the journal's thread ---------------------------------------------------
    def _open(self, cursor: str | None, start: Start) -> bool:
        """Open, add the matches and seek; True when ``cursor`` was found."""
        # imported here: listing or checking plugins need not load libsystemd
        from cysystemd.reader import JournalOpenMode, JournalReader, Rule  # type: ignore[import-not-found]

        reader = JournalReader()
        if self.path is None:
            reader.open(JournalOpenMode.LOCAL_ONLY)
        else:
            reader.open_directory(self.path)
        self._reader = reader
        self.fd = reader.fd  # sets up inotify: must come before the first read
        rules = [Rule(*text.split("=", 1)) for text in self.filters]
        if rules:
            reader.add_filter(functools.reduce(operator.and_ if self.filter_and else operator.or_, rules))
        if cursor is not None and self._resume(reader, cursor):
            return True
        if start.from_tail:
            reader.seek_tail()
            reader.previous()  # positioned on the last entry: the next read returns what comes after it
        elif start.since_usec:
            reader.seek_realtime_usec(start.since_usec)
        else:
            reader.seek_head()
        return False

    def _resume(self, reader: Any, cursor: str) -> bool:
        try:
            reader.seek_cursor(cursor.encode())
        except (SystemError, ValueError):
            return False
        entry = reader.next()
        if entry is not None and _cursor(entry) != cursor:
            self._held = entry  # the committed entry is gone (vacuumed): this is the next one
        return True

    def _read(self, max_entries: int, max_bytes: int) -> list[Entry]:
        reader = self._reader
        assert reader is not None
        entries: list[Entry] = []
        total = 0
        while len(entries) < max_entries and total < max_bytes:
            raw = self._held if self._held is not None else reader.next()
            self._held = None
            if raw is None:
                break
            data = raw.data
            unit = data.get(UNIT_FIELD, NO_UNIT)
            record, size = make_record(data, self.shape)
            entries.append(Entry(_cursor(raw), raw.get_realtime_usec() * 1000,
                                 unit[0] if isinstance(unit, list) else unit, record, size))
            total += size
        return entries

    # -- from the event loop ---------------------------------------------------------
    async def open(self, cursor: str | None, start: Start) -> bool:
        """Open the journal and seek; True when reading resumes after ``cursor``."""
        return await self._call(self._open, cursor, start)

    async def read(self, max_entries: int, max_bytes: int) -> list[Entry]:
        """The next entries, at most ``max_entries`` and about ``max_bytes``; empty at the end."""
        return await self._call(self._read, max_entries, max_bytes)

    async def wait(self, stop: asyncio.Event, timeout: float) -> None:
        """Until the journal changes, ``stop`` is set or ``timeout`` passes; then let libsystemd
        take the change in (the timeout covers what inotify cannot see, such as network file systems)."""
        loop = asyncio.get_running_loop()
        changed = asyncio.Event()
        loop.add_reader(self.fd, changed.set)
        waits = [asyncio.ensure_future(changed.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            loop.remove_reader(self.fd)
            for waiter in waits:
                waiter.cancel()
        reader = self._reader
        assert reader is not None
        await self._call(reader.process_events)

    async def close(self) -> None:
        if self._reader is not None:
            await self._call(self._drop)
        self._executor.shutdown(wait=False)

    def _drop(self) -> None:
        # the reader closes the journal when it is freed: free it on its own thread
        self._reader = self._held = None


def _cursor(entry: Any) -> str:
    cursor = entry.cursor
    return cursor.decode() if isinstance(cursor, bytes) else str(cursor)


def directory_problem(path: str) -> str | None:
    """Why ``path`` cannot be opened as a journal directory, or None."""
    if not os.path.exists(path):
        return "does not exist"
    if not os.path.isdir(path):
        return "is not a directory"
    return None
