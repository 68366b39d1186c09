"""``HTTP_Tap``: live, sampled events at a named input, filter or output, for ``shipper tap``.

The :class:`TapHub` is the engine's probe in a daemon started with
``HTTP_Tap On``.  Each ``GET /api/v1/tap`` adds a :class:`Tap`: the instance
to watch, a tag match, a record limit and a rate.  Records are serialised
when they pass (the next filter may change them in place), at most ``rate``
per second (the rest are counted as skipped), into a bounded queue the HTTP
handler streams as JSON lines.  A slow client loses samples, never slows
the pipeline.  With no tap open the hub returns at its first test.

It is off by default because it shows log contents to whoever can reach the
monitoring port.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import orjson

from shipper.engine.probe import Reemitted
from shipper.events import Event, format_rfc3339_ns

#: lines a tap holds for a slow client before it skips records.
QUEUE_LIMIT = 1000


class Tap:
    """One client's view: records at ``name`` whose tag ``matches``, at most ``rate`` per second."""

    def __init__(
        self,
        name: str,
        matches: Callable[[str], bool],
        limit: int | None = None,
        rate: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.matches = matches
        self.limit = limit
        self.rate = rate
        self.clock = clock
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(QUEUE_LIMIT)
        self.taken = 0
        self.skipped = 0
        self._tokens = max(1.0, rate) if rate else 0.0
        self._refilled = clock()

    @property
    def full(self) -> bool:
        """Its limit is reached: nothing more will be queued."""
        return self.limit is not None and self.taken >= self.limit

    def _token(self) -> bool:
        """A token-bucket sample: ``rate`` records a second, bursts up to one second's worth."""
        if not self.rate:
            return True
        now = self.clock()
        self._tokens = min(max(1.0, self.rate), self._tokens + (now - self._refilled) * self.rate)
        self._refilled = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True

    def offer(self, kind: str, tag: str, events: list[Event]) -> None:
        if not self.matches(tag):
            return
        for ts, record in events:
            if self.full:
                return
            if not self._token() or self.queue.full():
                self.skipped += 1
                continue
            entry = {"kind": kind, "name": self.name, "tag": tag, "time": format_rfc3339_ns(ts), "record": record}
            self.queue.put_nowait(orjson.dumps(entry, default=str, option=orjson.OPT_NON_STR_KEYS) + b"\n")
            self.taken += 1


class TapHub:
    """The engine probe behind ``/api/v1/tap``: hands what passes each instance to the taps open on it."""

    def __init__(self) -> None:
        self._taps: dict[str, list[Tap]] = {}

    def open(self, tap: Tap) -> None:
        self._taps.setdefault(tap.name, []).append(tap)

    def close(self, tap: Tap) -> None:
        taps = self._taps.get(tap.name, [])
        if tap in taps:
            taps.remove(tap)
        if not taps:
            self._taps.pop(tap.name, None)

    def _offer(self, kind: str, name: str, tag: str, events: list[Event]) -> None:
        for tap in self._taps.get(name, ()):
            tap.offer(kind, tag, events)

    # -- the engine's Probe protocol -------------------------------------------------
    def ingested(self, name: str, tag: str, events: list[Event]) -> None:
        if self._taps:
            self._offer("input", name, tag, events)

    def before_filter(self, name: str, tag: str, events: list[Event]) -> Any:
        return None

    def filtered(self, name: str, tag: str, before: Any, events: list[Event], reemitted: Reemitted) -> None:
        if self._taps:
            self._offer("filter", name, tag, events)
            for new_tag, new_events in reemitted:
                self._offer("filter", name, new_tag, new_events)

    def routed(self, name: str, tag: str, events: list[Event]) -> None:
        if self._taps:
            self._offer("output", name, tag, events)
