"""What happened to a case's records on their way through the pipeline.

:class:`Tracer` is the engine probe ``shipper test`` sets: it notes each
chunk an input handed in, what each filter did to it (records in, records
out, re-emitted, which keys changed) and what each output accepted.  When an
expectation fails, this names the filter that dropped or changed the record.
:class:`Collector` is the dry-run sink that keeps what each output would send.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from shipper.engine.probe import Reemitted
from shipper.events import Event, Record
from shipper.plugin import DryRunBatch, Rendered


@dataclass
class Step:
    """One observation: an input's chunk, a filter's pass over a chunk, or an output's share."""

    kind: str  # "input", "filter" or "output"
    name: str
    tag: str
    records_in: int
    records_out: int
    reemitted: list[tuple[str, int]] = field(default_factory=list)
    #: top-level keys a filter added, removed or changed (records compared in order when none were dropped).
    changed: set[str] = field(default_factory=set)

    @property
    def dropped(self) -> int:
        """Records a filter removed without re-emitting them under another tag."""
        return max(0, self.records_in - self.records_out - sum(n for _, n in self.reemitted))

    def describe(self, show_tag: bool = True) -> str:
        tag = f" (tag {self.tag})" if show_tag else ""
        if self.kind == "input":
            return f"input  {self.name}{tag}: {self.records_out} record(s)"
        if self.kind == "output":
            return f"output {self.name}{tag}: accepted {self.records_out} record(s)"
        text = f"filter {self.name}{tag}: {self.records_in} -> {self.records_out}"
        if self.dropped:
            text += f", dropped {self.dropped}"
        for tag, count in self.reemitted:
            text += f", re-emitted {count} as tag {tag}"
        if self.changed:
            text += f", changed {', '.join(sorted(self.changed))}"
        return text


def changed_keys(before: Record, after: Record) -> set[str]:
    """Top-level keys that differ between two versions of a record."""
    return {k for k in before.keys() | after.keys() if before.get(k, _ABSENT) != after.get(k, _ABSENT)}


_ABSENT = object()


class Tracer:
    """The engine probe of ``shipper test``: keeps every step, in the order they happened."""

    def __init__(self) -> None:
        self.steps: list[Step] = []

    def ingested(self, name: str, tag: str, events: list[Event]) -> None:
        self.steps.append(Step("input", name, tag, len(events), len(events)))

    def before_filter(self, name: str, tag: str, events: list[Event]) -> Any:
        # filters may change records in place, so compare against a copy
        return copy.deepcopy([record for _, record in events])

    def filtered(self, name: str, tag: str, before: Any, events: list[Event], reemitted: Reemitted) -> None:
        step = Step("filter", name, tag, len(before), len(events), [(t, len(e)) for t, e in reemitted])
        if len(before) == len(events):
            for old, (_, new) in zip(before, events, strict=True):
                step.changed |= changed_keys(old, new)
        self.steps.append(step)

    def routed(self, name: str, tag: str, events: list[Event]) -> None:
        self.steps.append(Step("output", name, tag, len(events), len(events)))

    # -- explanations ----------------------------------------------------------
    def changers(self, keys: set[str]) -> list[str]:
        """Filters that changed any of these top-level keys, in pipeline order."""
        return list(dict.fromkeys(s.name for s in self.steps if s.kind == "filter" and s.changed & keys))

    def final_tags(self) -> list[str]:
        """Tags records still carried at the end of the filter chain (what outputs' Match is tested against)."""
        left: dict[str, int] = {}
        for step in self.steps:
            if step.kind in ("input", "filter"):
                left[step.tag] = step.records_out
            for tag, count in step.reemitted:
                left[tag] = count
        return [tag for tag, count in left.items() if count]

    def lines(self) -> list[str]:
        """One line per step; a tag is shown where it first appears, not on every line."""
        shown: set[str] = set()
        lines = []
        for step in self.steps:
            lines.append(step.describe(show_tag=step.tag not in shown))
            shown.add(step.tag)
        return lines or ["no input handed in any record"]


class Collector:
    """The dry-run sink of ``shipper test``: what each output would send, with its tag."""

    def __init__(self) -> None:
        self.sent: dict[str, list[tuple[str, Rendered]]] = defaultdict(list)
        #: what each ``refused`` reason code means, as the outputs explain them.
        self.reasons: dict[str, str] = {}

    def write(self, output_name: str, tag: str, batch: DryRunBatch) -> None:
        self.sent[output_name].extend((tag, item) for item in batch.items)
        self.reasons.update(batch.reasons)
