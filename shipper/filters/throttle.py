"""``throttle``: cap the average record rate over a sliding window.

Time is cut into panes of ``Interval`` seconds; the window holds the last
``Window`` panes.  A record passes while the window's total is below
``Rate * Window`` (i.e. the average per interval stays under ``Rate``), as
Fluent Bit's throttle does; the rest are dropped and counted by the engine
(``fluentbit_filter_drop_records_total``).  ``Print_Status`` logs the
window once per elapsed interval.  The whole chunk is decided at once: no
per-record clock reads.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from shipper.errors import ConfigError
from shipper.events import Event
from shipper.options import Option, Settings
from shipper.plugin import Context, Filter
from shipper.registry import register


@register
class ThrottleFilter(Filter):
    name = "throttle"
    summary = "drop records above an average rate"
    options = (
        Option("rate", "int", default=1, help="records per interval, averaged over the window"),
        Option("window", "int", default=5, help="number of intervals averaged"),
        Option("interval", "duration", default="1s", help="length of one interval"),
        Option("print_status", "bool", default="off", help="log the window status every interval"),
    )

    def __init__(self, settings: Settings, context: Context, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(settings, context)
        self.rate: int = settings["rate"]
        self.window: int = settings["window"]
        self.interval: float = settings["interval"]
        if self.rate < 0 or self.window < 1 or self.interval <= 0:
            raise ConfigError("throttle: Rate must be >= 0, Window >= 1 and Interval > 0", settings.location)
        self.print_status: bool = settings["print_status"]
        self.clock = clock
        self.panes = [0] * self.window
        self.pane = int(clock() // self.interval)
        self.dropped = 0

    def _advance(self) -> int:
        """Move the window to the current pane; returns its slot."""
        pane = int(self.clock() // self.interval)
        elapsed = pane - self.pane
        if elapsed > 0:
            if self.print_status:
                self.log.info(
                    "window total %d of %d allowed (rate %d x window %d), %d dropped",
                    sum(self.panes),
                    self.rate * self.window,
                    self.rate,
                    self.window,
                    self.dropped,
                )
            for step in range(1, min(elapsed, self.window) + 1):
                self.panes[(self.pane + step) % self.window] = 0
            self.pane = pane
        return pane % self.window

    async def process(self, tag: str, events: list[Event]) -> list[Event]:
        slot = self._advance()
        allowed = max(0, self.rate * self.window - sum(self.panes))
        if len(events) <= allowed:
            self.panes[slot] += len(events)
            return events
        self.panes[slot] += allowed
        self.dropped += len(events) - allowed
        return events[:allowed]
