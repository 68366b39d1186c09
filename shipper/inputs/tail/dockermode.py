"""tail's legacy ``Docker_Mode``: docker json-file lines joined, then ``Parser`` applied.

``multiline.parser docker`` keeps the json-file record as it is.  The older
``Docker_Mode On`` that the Container Insights DaemonSet still uses differs in
two ways, both visible in what reaches CloudWatch:

- the joined line is handed to the input's ``Parser`` (usually ``docker``,
  whose ``Time_Key time`` removes ``time`` from the record), as a json-file
  line whose ``log`` holds the joined text;
- with ``Docker_Mode_Parser``, a complete line is held until the next line
  arrives: if that line matches the parser it starts a new record, otherwise
  its ``log`` is appended (the way stack traces are joined to their first
  line).  Without it, each complete line goes out at once.

Unlike the per-stream ``docker`` parser, the pending line is one per file, as
in Fluent Bit, and a group is flushed after ``Docker_Mode_Flush`` seconds
without a new line.  A line that is not a json-file record flushes the
pending group and goes out alone through ``Parser``.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from shipper.events import Event, now_ns
from shipper.multiline.definition import BUFFER_LIMIT
from shipper.parsers.base import Parser


class DockerModeDecoder:
    """One file's pending docker-mode group (the multiline :class:`Decoder` protocol)."""

    __slots__ = ("complete", "first_line", "key", "last", "parser", "parts", "size", "timeout", "touched", "truncated")

    def __init__(self, parser: Parser | None, first_line: Parser | None, key: str, flush_seconds: float) -> None:
        self.parser = parser
        self.first_line = first_line
        self.key = key
        self.timeout = flush_seconds
        #: the last json-file record of the group (its ``log`` is replaced by the joined text), or None.
        self.last: dict[str, Any] | None = None
        self.parts: list[str] = []
        self.size = 0
        #: whether the group's last piece ended with a newline (only then may a first line close it).
        self.complete = False
        self.touched = 0.0
        self.truncated = 0

    def decode(self, items: list[Any], start: int, end: int, ts: int, out: list[Event]) -> int:
        for index in range(start, end):
            line = items[index]
            if self.last is not None and self.complete and self.first_line is not None:
                if self.first_line.parse(line) is not None:
                    self.flush(out)
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                record = None
            text = record.get("log") if type(record) is dict else None
            if type(text) is not str:
                self.flush(out)
                out.append(self._parsed(line, ts))
                continue
            self.last = record
            self.parts.append(text)
            self.size += len(text)
            self.touched = time.monotonic()
            self.complete = text.endswith("\n")
            if (self.complete and self.first_line is None) or self.size >= BUFFER_LIMIT:
                if not self.complete:
                    self.truncated += 1
                self.flush(out)
        return end

    def flush(self, out: list[Event]) -> None:
        if self.last is None:
            return
        record, self.last = self.last, None
        record["log"] = "".join(self.parts)
        self.parts, self.size = [], 0
        out.append(self._parsed(orjson.dumps(record).decode(), now_ns()))

    def expire(self, now: float, out: list[Event]) -> None:
        if self.last is not None and now - self.touched >= self.timeout:
            self.flush(out)

    def pending(self) -> bool:
        return self.last is not None

    def _parsed(self, line: str, ts: int) -> Event:
        """The line through ``Parser``; unparsed (or without one) it goes out whole under ``Key``, read now."""
        parsed = self.parser.parse(line) if self.parser is not None else None
        if parsed is None:
            return ts, {self.key: line}
        when, fields = parsed
        return (ts if when is None else when), fields
