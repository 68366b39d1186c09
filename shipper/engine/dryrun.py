"""The dry-run report: what each output would send, one JSON object per record.

The jsonl form is a contract users pipe into jq, so its keys never change:
``{"output", "destination", "tag", "time", "payload"}`` with ``time`` in
RFC 3339 UTC with nanoseconds.  A record the destination would refuse (too
old for CloudWatch, too large for Firehose, ...) is shown too, with one more
key, ``"refused"``: the reason code, explained in the summary.  A per-output
summary goes to stderr: records and bytes that would be sent, requests, and
refused records by reason.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Protocol, TextIO

import orjson

from shipper.events import format_rfc3339_ns
from shipper.plugin import DryRunBatch

#: reason codes that depend on the clock: the summary points at ``--now``.
CLOCK_REASONS = frozenset({"too_old", "expired", "too_new"})


class DryRunSink(Protocol):
    """Where the engine sends what each output would send, instead of sending it."""

    def write(self, output_name: str, tag: str, batch: DryRunBatch) -> None:
        """Take what output ``output_name`` would send for one batch under ``tag``."""


@dataclass
class OutputTotals:
    records: int = 0
    bytes: int = 0
    requests: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    reasons: dict[str, str] = field(default_factory=dict)


class DryRunPrinter:
    """Writes rendered records as ``jsonl`` or a human-readable ``pretty`` listing."""

    def __init__(self, stream: TextIO, fmt: str = "jsonl") -> None:
        if fmt not in ("jsonl", "pretty"):
            raise ValueError(f"unknown dry-run format {fmt!r}")
        self.stream = stream
        self.fmt = fmt
        self.totals: dict[str, OutputTotals] = defaultdict(OutputTotals)

    def write(self, output_name: str, tag: str, batch: DryRunBatch) -> None:
        totals = self.totals[output_name]
        totals.requests += batch.requests
        totals.reasons.update(batch.reasons)
        lines = []
        for item in batch.items:
            if item.refused is None:
                totals.records += 1
                totals.bytes += len(item.payload.encode("utf-8", "surrogatepass"))
            else:
                totals.refused[item.refused] += 1
            time_text = format_rfc3339_ns(item.time_ns)
            if self.fmt == "jsonl":
                entry = {
                    "output": output_name,
                    "destination": item.destination,
                    "tag": tag,
                    "time": time_text,
                    "payload": item.payload,
                }
                if item.refused is not None:
                    entry["refused"] = item.refused
                lines.append(orjson.dumps(entry).decode())
            else:
                where = " ".join(f"{k}={v}" for k, v in item.destination.items())
                mark = "" if item.refused is None else f" REFUSED {item.refused}: {batch.reasons.get(item.refused, '')}"
                lines.append(f"[{output_name}] {time_text} {tag} {where}".rstrip() + mark.rstrip(": ") + f"\n    {item.payload}")
        if lines:
            self.stream.write("\n".join(lines) + "\n")

    def summary(self, output_names: list[str], now_ns: int | None = None) -> str:
        """Per output: records, payload bytes and API requests it would make, then refusals by reason.

        ``now_ns`` is the ``--now`` the windows were judged by; without it the clock was, and a
        refusal for time points at ``--now``.
        """
        rows = []
        clock = False
        for name in output_names:
            t = self.totals.get(name, OutputTotals())
            refused = sum(t.refused.values())
            tail = f", {refused} refused" if refused else ""
            rows.append(f"dry-run: {name}: {t.records} records, {t.bytes} bytes, {t.requests} requests{tail}")
            for reason, count in sorted(t.refused.items()):
                rows.append(f"dry-run: {name}: refused {count} as {reason}: {t.reasons.get(reason, reason)}")
                clock = clock or reason in CLOCK_REASONS
        if clock and now_ns is not None:
            rows.append(f"dry-run: time windows were judged as of --now {format_rfc3339_ns(now_ns)}")
        elif clock:
            rows.append("dry-run: time windows are judged by the clock; replay old logs as of their own time with --now TIME")
        return "\n".join(rows)
