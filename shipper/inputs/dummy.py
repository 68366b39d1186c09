"""``dummy``: emit a fixed JSON record at a rate, for tests and smoke checks."""

from __future__ import annotations

import asyncio
import copy

import orjson

from shipper.errors import ConfigError
from shipper.events import now_ns
from shipper.jsonfmt import MAX_PARSED_DEPTH, too_deep
from shipper.options import Option, Settings
from shipper.plugin import Context, Input
from shipper.registry import register


@register
class DummyInput(Input):
    name = "dummy"
    summary = "generate a fixed record at a fixed rate"
    options = (
        Option("dummy", default='{"message":"dummy"}', help="the JSON record to emit"),
        Option("metadata", default="{}", ignored=True, help="accepted for compatibility (record metadata)"),
        Option("rate", "float", default=1.0, help="records per second"),
        Option("interval_sec", "int", default=0, help="seconds between records (overrides rate)"),
        Option("interval_nsec", "int", default=0, help="nanoseconds between records (overrides rate)"),
        Option("samples", "int", default=0, help="stop after this many records (0 = never)"),
        Option("copies", "int", default=1, help="copies of the record per emission"),
        Option("start_time_sec", "int", default=-1, help="fixed timestamp seconds of the first record"),
        Option("start_time_nsec", "int", default=-1, help="fixed timestamp nanoseconds of the first record"),
        Option("fixed_timestamp", "bool", default="off", help="give every record the start time"),
        Option("flush_on_startup", "bool", default="off", help="emit once at start without waiting"),
    )

    def __init__(self, settings: Settings, context: Context) -> None:
        super().__init__(settings, context)
        try:
            record = orjson.loads(settings["dummy"])
        except orjson.JSONDecodeError as exc:
            raise ConfigError(f"[INPUT] dummy: option 'Dummy' is not valid JSON: {exc}", settings.where("dummy")) from None
        if not isinstance(record, dict):
            raise ConfigError("[INPUT] dummy: option 'Dummy' must be a JSON object", settings.where("dummy"))
        if too_deep(settings["dummy"], record):
            raise ConfigError(
                f"[INPUT] dummy: option 'Dummy' nests deeper than {MAX_PARSED_DEPTH} levels, which outputs cannot encode",
                settings.where("dummy"),
            )
        self.record = record
        interval_ns = settings["interval_sec"] * 1_000_000_000 + settings["interval_nsec"]
        rate = settings["rate"]
        if interval_ns <= 0 and rate <= 0:
            raise ConfigError("[INPUT] dummy: 'Rate' must be positive", settings.where("rate"))
        self.interval = interval_ns / 1e9 if interval_ns > 0 else 1.0 / rate
        self.samples = max(0, settings["samples"])
        self.copies = max(1, settings["copies"])
        start_sec, start_nsec = settings["start_time_sec"], settings["start_time_nsec"]
        self.start_ns = None if start_sec < 0 else start_sec * 1_000_000_000 + max(0, start_nsec)

    def _timestamp(self) -> int:
        if self.start_ns is not None and self.settings["fixed_timestamp"]:
            return self.start_ns
        return now_ns()

    async def run(self) -> None:
        limit = self.samples or (1 if self.context.dry_run else 0)
        size = len(orjson.dumps(self.record))
        emitted = 0
        while not self.stopping.is_set() and (not limit or emitted < limit):
            if emitted or not self.settings["flush_on_startup"]:
                try:
                    await asyncio.wait_for(self.stopping.wait(), timeout=self.interval)
                    break
                except TimeoutError:
                    pass
            ts = self._timestamp()
            events = [(ts, copy.deepcopy(self.record)) for _ in range(self.copies)]
            await self.emit(self.tag, events, nbytes=size * self.copies)
            emitted += 1
