"""``null``: accept and discard records (benchmarks, and muting a route)."""

from __future__ import annotations

from shipper.events import Event
from shipper.outputs.result import FlushResult
from shipper.packed import EventBatch, Packed
from shipper.plugin import DryRunBatch, Output
from shipper.registry import register


@register
class NullOutput(Output):
    name = "null"
    summary = "discard records"

    def pack(self, events: list[Event]) -> Packed:
        return Packed.discarded(len(events))

    async def flush_batch(self, tag: str, batch: EventBatch) -> FlushResult:
        return FlushResult.ok()  # nothing to decode

    async def flush(self, tag: str, events: list[Event]) -> FlushResult:
        return FlushResult.ok()

    def dry_run(self, tag: str, events: list[Event]) -> DryRunBatch:
        return DryRunBatch([], 0)
