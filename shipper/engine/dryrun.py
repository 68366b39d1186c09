"""The dry-run report: what each output would send, one JSON object per record.

The jsonl form is a contract users pipe into jq, so its keys never change:
``{"output", "destination", "tag", "time", "payload"}`` with ``time`` in
RFC 3339 UTC with nanoseconds.  A per-output summary goes to stderr.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TextIO

import orjson

from shipper.events import format_rfc3339_ns
from shipper.plugin import DryRunBatch


@dataclass
class OutputTotals:
    records: int = 0
    bytes: int = 0
    requests: int = 0


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
        lines = []
        for item in batch.items:
            totals.records += 1
            totals.bytes += len(item.payload.encode("utf-8", "surrogatepass"))
            time_text = format_rfc3339_ns(item.time_ns)
            if self.fmt == "jsonl":
                entry = {
                    "output": output_name,
                    "destination": item.destination,
                    "tag": tag,
                    "time": time_text,
                    "payload": item.payload,
                }
                lines.append(orjson.dumps(entry).decode())
            else:
                where = " ".join(f"{k}={v}" for k, v in item.destination.items())
                lines.append(f"[{output_name}] {time_text} {tag} {where}".rstrip() + f"\n    {item.payload}")
        if lines:
            self.stream.write("\n".join(lines) + "\n")

    def summary(self, output_names: list[str]) -> str:
        """One line per output: records, payload bytes and API requests it would make."""
        rows = []
        for name in output_names:
            t = self.totals.get(name, OutputTotals())
            rows.append(f"dry-run: {name}: {t.records} records, {t.bytes} bytes, {t.requests} requests")
        return "\n".join(rows)
