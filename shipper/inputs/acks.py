"""Commit progress in order though acknowledgements may come out of order.

An input that reads a stream (a file, the journal) hands out chunks and may
only commit the position after a chunk once that chunk and every chunk
before it have been delivered.  :class:`AckWindow` keeps the chunks in flight
in reading order and moves the committed position over the acknowledged ones
at the front.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

P = TypeVar("P")


@dataclass(slots=True)
class InFlight(Generic[P]):
    """One chunk of a stream handed to the engine: the position after it, and whether it is delivered."""

    position: P
    acknowledged: bool = False


class AckWindow(Generic[P]):
    """Chunks of one stream in flight, so positions commit in order though acks may not.

    The committed position moves to the position of the last acknowledged
    chunk with none unacknowledged before it.  A position is a byte offset for
    tail, a journal cursor for systemd.
    """

    __slots__ = ("committed", "inflight")

    def __init__(self, committed: P) -> None:
        self.committed = committed
        self.inflight: deque[InFlight[P]] = deque()

    def add(self, position: P, acknowledged: bool = False) -> InFlight[P]:
        entry = InFlight(position, acknowledged)
        self.inflight.append(entry)
        return entry

    def advance(self) -> bool:
        """Move ``committed`` over acknowledged entries at the front; True when it moved."""
        moved = False
        inflight = self.inflight
        while inflight and inflight[0].acknowledged:
            self.committed = inflight.popleft().position
            moved = True
        return moved

    def reset(self, position: P) -> None:
        """Forget what is in flight (the stream restarted): commit from ``position`` on."""
        self.inflight.clear()
        self.committed = position


@dataclass(frozen=True, slots=True)
class WindowAck(Generic[P]):
    """The :class:`~shipper.plugin.Ack` of one chunk of a stream.

    When the engine acknowledges it, its entry is marked delivered and, if
    that moved the window's committed position, ``commit`` persists it.
    """

    window: AckWindow[P]
    entry: InFlight[P]
    commit: Callable[[], None]

    def acknowledged(self) -> None:
        self.entry.acknowledged = True
        if self.window.advance():
            self.commit()
