"""``shipper_logs``: shipper's own log records as events.

Fargate's ``flb_log_cw: "true"`` sends the log router's own log to
CloudWatch; :mod:`shipper.selflog` runs this input in a private pipeline to
do the same.  Records are collected by a logging handler and emitted once a
second, never one event per log call on the hot path.  Records logged by
the plugins of that private pipeline are not captured, so a failing upload
cannot feed on its own warnings.
"""

from __future__ import annotations

import asyncio
import logging

from shipper.events import Event
from shipper.logging_setup import component, level_label
from shipper.options import Option, Settings
from shipper.plugin import Context, Input
from shipper.redact import redact
from shipper.registry import register

MAX_BUFFERED = 10_000


class _Collector(logging.Handler):
    def __init__(self, exclude: tuple[str, ...]) -> None:
        super().__init__(logging.INFO)
        self.exclude = exclude
        self.events: list[Event] = []
        self.lost = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(self.exclude):
            return
        if len(self.events) >= MAX_BUFFERED:
            self.lost += 1
            return
        event = {
            "level": level_label(record.levelno).strip(),
            "component": component(record.name),
            "message": redact(record.getMessage()),
        }
        self.events.append((int(record.created * 1_000_000_000), event))


@register
class ShipperLogsInput(Input):
    name = "shipper_logs"
    summary = "shipper's own log records (Fargate flb_log_cw)"
    options = (Option("interval", "duration", default="1", help="seconds between batches"),)

    def __init__(self, settings: Settings, context: Context) -> None:
        super().__init__(settings, context)
        self._collector = _Collector(("shipper.output.", "shipper.engine"))

    async def start(self) -> None:
        logging.getLogger().addHandler(self._collector)

    async def stop(self) -> None:
        logging.getLogger().removeHandler(self._collector)

    async def run(self) -> None:
        while True:
            stopped = False
            try:
                await asyncio.wait_for(self.stopping.wait(), timeout=self.settings["interval"])
                stopped = True
            except TimeoutError:
                pass
            events, self._collector.events = self._collector.events, []
            if self._collector.lost:
                self.count("shipper_selflog_lost_records_total", self._collector.lost)
                self._collector.lost = 0
            if events:
                await self.emit(self.tag, events, nbytes=sum(len(e[1]["message"]) for e in events))
            if stopped:
                return
