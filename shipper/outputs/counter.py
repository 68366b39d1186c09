"""``counter``: print how many records each flush carried, as Fluent Bit's does."""

from __future__ import annotations

import sys
import time

from shipper.events import Event
from shipper.outputs.result import FlushResult
from shipper.plugin import DryRunBatch, Output, Rendered
from shipper.registry import register


@register
class CounterOutput(Output):
    name = "counter"
    summary = "print record counts per flush"

    def __init__(self, settings, context) -> None:  # type: ignore[no-untyped-def]
        super().__init__(settings, context)
        self.total = 0

    def _line(self, count: int) -> str:
        self.total += count
        return f"{time.time():f},{count} (total = {self.total})"

    async def flush(self, tag: str, events: list[Event]) -> FlushResult:
        sys.stdout.write(self._line(len(events)) + "\n")
        sys.stdout.flush()
        return FlushResult.ok()

    def dry_run(self, tag: str, events: list[Event]) -> DryRunBatch:
        if not events:
            return DryRunBatch([], 0)
        return DryRunBatch([Rendered({}, self._line(len(events)), events[-1][0])], 1)
