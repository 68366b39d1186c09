"""``stdout``: print records, in Fluent Bit's display form or as JSON."""

from __future__ import annotations

import sys

from shipper.events import Event
from shipper.jsonfmt import dumps_str
from shipper.options import Option
from shipper.outputs.formats import DATE_FORMATS, date_value, json_line, msgpack_display, seconds_dot_nanos
from shipper.outputs.result import FlushResult
from shipper.plugin import DryRunBatch, Output, Rendered
from shipper.registry import register


@register
class StdoutOutput(Output):
    name = "stdout"
    summary = "print records to standard output"
    options = (
        Option("format", default="msgpack", choices=("msgpack", "json", "json_lines", "json_stream"),
               help="msgpack prints Fluent Bit's '[0] tag: [[ts, {}], {...}]' display"),
        Option("json_date_key", default="date", help="key of the time in JSON formats ('false' to omit)"),
        Option("json_date_format", default="double", choices=DATE_FORMATS),
    )

    def __init__(self, settings, context) -> None:  # type: ignore[no-untyped-def]
        super().__init__(settings, context)
        key = settings["json_date_key"]
        self.date_key = None if key.lower() in ("false", "off", "") else key
        self.date_format = settings["json_date_format"].lower()
        self.format = settings["format"].lower()

    def render(self, tag: str, events: list[Event]) -> str:
        if self.format == "json":
            rows = [
                dumps_str({self.date_key: date_value(ts, self.date_format), **r} if self.date_key else r)
                for ts, r in events
            ]
            return "[" + ",".join(rows) + "]\n"
        if self.format in ("json_lines", "json_stream"):
            return "".join(json_line(e, self.date_key, self.date_format) + "\n" for e in events)
        return "".join(
            f"[{i}] {tag}: [[{seconds_dot_nanos(ts)}, {{}}], {msgpack_display(record)}]\n"
            for i, (ts, record) in enumerate(events)
        )

    async def flush(self, tag: str, events: list[Event]) -> FlushResult:
        sys.stdout.write(self.render(tag, events))
        sys.stdout.flush()
        return FlushResult.ok()

    def dry_run(self, tag: str, events: list[Event]) -> DryRunBatch:
        items = [Rendered({}, self.render(tag, [e]).rstrip("\n"), e[0]) for e in events]
        return DryRunBatch(items, 1 if items else 0)
