"""The decoder protocol every multiline parser implements, and the chain that tries them.

A decoder consumes a batch of items (tail lines as ``str``, or filter events)
from ``start`` up to ``end`` and appends finished events to ``out``.  It
returns the index of the first item it does not accept, so a
``multiline.parser docker, cri`` list can offer that item to the next
parser; the parser that last accepted an item for a stream is tried first
(Fluent Bit's "last recently used" parser).  Items no parser accepts
close every pending group of the stream and pass through on their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from shipper.events import Event


class Decoder(Protocol):
    """One multiline parser's state for one stream (one file, or one tag)."""

    @property
    def truncated(self) -> int:
        """How many groups were emitted early for reaching the buffer limit."""

    def decode(self, items: list[Any], start: int, end: int, ts: int, out: list[Event]) -> int:
        """Consume ``items[start:end]``; return the index of the first rejected item (or ``end``)."""

    def flush(self, out: list[Event]) -> None:
        """Emit every pending group now."""

    def expire(self, now: float, out: list[Event]) -> None:
        """Emit groups that got no data for the parser's flush timeout (``now`` is monotonic)."""

    def pending(self) -> bool:
        """Whether any group is waiting for more lines."""


class DecoderChain:
    """Tries a stream's decoders in order, sticking to the one that last matched."""

    __slots__ = ("current", "decoders", "standalone")

    def __init__(self, decoders: list[Decoder], standalone: Callable[[Any, int], Event]) -> None:
        self.decoders = decoders
        self.standalone = standalone
        self.current = 0

    def decode(self, items: list[Any], ts: int, out: list[Event]) -> None:
        """Decode a whole batch, in order."""
        decoders = self.decoders
        current = self.current
        end = len(items)
        index = 0
        while index < end:
            rejected = decoders[current].decode(items, index, end, ts, out)
            if rejected >= end:
                break
            for other, decoder in enumerate(decoders):
                if other != current and decoder.decode(items, rejected, rejected + 1, ts, out) > rejected:
                    current = other
                    break
            else:
                self.flush(out)
                out.append(self.standalone(items[rejected], ts))
            index = rejected + 1
        self.current = current

    def flush(self, out: list[Event]) -> None:
        for decoder in self.decoders:
            decoder.flush(out)

    def expire(self, now: float, out: list[Event]) -> None:
        for decoder in self.decoders:
            decoder.expire(now, out)

    def pending(self) -> bool:
        return any(decoder.pending() for decoder in self.decoders)

    @property
    def truncated(self) -> int:
        return sum(decoder.truncated for decoder in self.decoders)
