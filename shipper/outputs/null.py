"""``null``: accept and discard records (benchmarks, and muting a route)."""

from __future__ import annotations

from shipper.events import Event
from shipper.outputs.result import FlushResult
from shipper.packed import Packed
from shipper.plugin import DryRunBatch, Output
from shipper.registry import register


@register
class NullOutput(Output):
    name = "null"
    summary = "discard records"

    def pack(self, events: list[Event]) -> Packed:
        return Packed.discarded(len(events))

    async def flush(self, tag: str, events: list[Event]) -> FlushResult:
        return FlushResult.ok()

    def dry_run(self, tag: str, events: list[Event]) -> DryRunBatch:
        return DryRunBatch([], 0)
