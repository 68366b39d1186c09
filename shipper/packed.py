"""Records waiting for an output, held as JSON encoded once instead of as dicts.

A record as Python objects costs 5 to 10 times its JSON (a dict, its keys,
each string and int an object of its own), and an output may wait minutes
for its destination.  So once a chunk has left the filter chain, each piece
routed to an output is encoded once into a :class:`Packed`: the records'
JSON joined by newlines (JSON text never holds a raw newline) and their
timestamps in an ``array``.  ``Mem_Buf_Limit`` counts :attr:`Packed.size`,
which is what the process really holds, so the limit maps to RSS close to
1:1.  The runner decodes a batch only when it flushes it.

The JSON is the one every output writes (:func:`shipper.jsonfmt.dumps`),
so decoding and re-encoding gives the same bytes; maps shared by many
records (the kubernetes map, :class:`~shipper.jsonfmt.EncodedMap`) are
encoded once and copied in.  A piece that cannot be encoded (a value nested
deeper than the encoder allows, an integer over 64 bits) is kept as it is and counted at
:data:`UNENCODED_RECORD_BYTES` per record, so the limit still holds.
"""

from __future__ import annotations

from array import array

import orjson

from shipper.events import Event
from shipper.jsonfmt import dumps_lines

#: bytes counted per piece beyond its JSON and timestamps (the objects holding them).
PIECE_OVERHEAD = 200
#: what one record kept as Python objects is counted at (measured records are 1-4 KB as dicts).
UNENCODED_RECORD_BYTES = 4096
#: the event a discarding output's pieces are made of (null keeps only a count).
_DISCARDED: Event = (0, {})


class Packed:
    """One routed piece of a chunk, as its output will get it at flush time."""

    __slots__ = ("count", "size", "_times", "_body", "_events")

    def __init__(self, count: int, size: int, times: array[int] | None = None, body: bytes = b"",
                 events: list[Event] | None = None) -> None:
        self.count = count
        #: bytes this piece holds, as counted against the input's memory limit.
        self.size = size
        self._times = times
        self._body = body
        self._events = events

    @classmethod
    def encode(cls, events: list[Event]) -> Packed:
        """The records as JSON lines; kept as they are when they cannot be encoded."""
        try:
            body = dumps_lines([record for _, record in events])
            times = array("q", [ts for ts, _ in events])
        except (ValueError, TypeError, RecursionError, OverflowError):
            return cls(len(events), PIECE_OVERHEAD + UNENCODED_RECORD_BYTES * len(events), events=list(events))
        return cls(len(events), PIECE_OVERHEAD + len(body) + times.itemsize * len(times), times, body)

    @classmethod
    def held(cls, events: list[Event]) -> Packed:
        """Events already decoded (read back from a chunk file for this flush): nothing to count."""
        return cls(len(events), 0, events=events)

    @classmethod
    def discarded(cls, count: int) -> Packed:
        """``count`` records an output throws away: only how many is kept, for its metrics."""
        return cls(count, PIECE_OVERHEAD + 8 * count, events=[_DISCARDED] * count)

    @property
    def encoded(self) -> bool:
        return self._times is not None

    def json_lines(self) -> tuple[array[int], bytes]:
        """Timestamps and the records' JSON joined by newlines, without decoding (encoded pieces only)."""
        assert self._times is not None, "json_lines() of a piece that was not encoded"
        return self._times, self._body

    def events(self) -> list[Event]:
        """The records as dicts again (a new list each call)."""
        if self._times is None:
            return list(self._events or ())
        if not self.count:
            return []
        # one array for orjson: no small bytes object per record to fragment the heap, and one call
        records = orjson.loads(b"[%s]" % self._body.replace(b"\n", b","))
        return list(zip(self._times, records, strict=True))


class EventBatch:
    """A batch as it waited for its output: packed pieces, decoded on first use.

    :meth:`Output.flush_batch <shipper.plugin.Output.flush_batch>` gets it:
    by default it is decoded and handed to ``flush``; the file output writes
    the packed JSON as it is, and null never looks.
    """

    __slots__ = ("_count", "_events", "packs")

    def __init__(self, packs: list[Packed]) -> None:
        self.packs = packs
        self._count = sum(p.count for p in packs)
        self._events: list[Event] | None = None

    def decoded(self) -> list[Event]:
        """The events (decoded once, then kept until the batch is done)."""
        if self._events is None:
            self._events = [event for packed in self.packs for event in packed.events()]
        return self._events

    def __len__(self) -> int:
        return self._count

    def __repr__(self) -> str:
        return f"EventBatch({self._count} events in {len(self.packs)} pieces)"
