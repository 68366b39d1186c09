"""``stdin``: read records from standard input until EOF (sidecars, pipes, tests)."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import orjson

from shipper.errors import ConfigError
from shipper.events import Event, now_ns
from shipper.jsonfmt import too_deep
from shipper.options import Option, Settings
from shipper.plugin import Context, Input
from shipper.registry import register

READ_SIZE = 1 << 20


@register
class StdinInput(Input):
    name = "stdin"
    summary = "read JSON records (or text with a Parser) from standard input"
    options = (
        Option("parser", help="parser for each line; without it lines must be JSON objects"),
        Option("buffer_size", "size", default="16k", ignored=True, help="accepted for compatibility"),
    )

    def __init__(self, settings: Settings, context: Context) -> None:
        super().__init__(settings, context)
        self.parser: Any = None
        name = settings.get("parser")
        if name:
            self.parser = context.parsers.get(name)
            if self.parser is None:
                raise ConfigError(f"[INPUT] stdin: no parser named {name!r}", settings.where("parser"))

    def _record(self, line: str) -> Event:
        """Fluent Bit's stdin takes JSON maps or ``[time, map]``; other text is kept under ``log``."""
        if self.parser is not None:
            parsed = self.parser.parse(line)
            if parsed is not None:
                ts, record = parsed
                return (ts or now_ns(), record)
        else:
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError:
                value = None
            if too_deep(line, value):  # outputs could not encode it: kept as text
                value = None
            if isinstance(value, dict):
                return (now_ns(), value)
            if isinstance(value, list) and len(value) == 2 and isinstance(value[1], dict) and isinstance(value[0], (int, float)):
                return (int(value[0] * 1_000_000_000), value[1])
        self.count("shipper_input_unparsed_records_total")
        return (now_ns(), {"log": line})

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        rest = b""
        while not self.stopping.is_set():
            data = await reader.read(READ_SIZE)
            lines = (rest + data).split(b"\n")
            rest = lines.pop() if data else b""
            events = [self._record(line.decode("utf-8", "replace").rstrip("\r")) for line in lines if line.strip()]
            if events:
                await self.emit(self.tag, events, nbytes=sum(len(line) + 1 for line in lines))
            if not data:
                return
