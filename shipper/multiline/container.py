"""The ``cri`` and ``docker`` multiline parsers: container log lines, partials joined.

These are the hottest loops in shipper (every container line goes through
one of them), so they are written as single flat loops over a batch:
``str.split`` instead of a regex, the per-second timestamp cache inlined
for the usual 9-digit ``Z`` stamp, no helper call per line.

CRI: ``<RFC3339> <stdout|stderr> <P|F> <text>``.  ``P`` pieces are joined
per stream until the ``F`` piece; the record is ``{"time", "stream", "_p",
"log"}`` with the first piece's time and ``_p`` (Fluent Bit keeps ``"P"``
on a joined record).  Docker json-file: ``{"log", "stream", "time"}``,
pieces whose ``log`` lacks the final ``\\n`` are joined per stream.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from shipper.events import Event, now_ns
from shipper.jsonfmt import too_deep
from shipper.multiline.definition import BUFFER_LIMIT, MultilineParser
from shipper.multiline.timestamps import Rfc3339Cache

_STREAMS = frozenset(("stdout", "stderr"))


class _Partial:
    """A group waiting for its last piece: the first piece's record, and the text so far."""

    __slots__ = ("parts", "record", "size", "time", "touched")

    def __init__(self, when: int, record: dict[str, Any], text: str) -> None:
        self.time = when
        self.record = record
        self.parts = [text]
        self.size = len(text)
        self.touched = time.monotonic()


class _ContainerDecoder:
    """Pending partials per stream and the shared flush/expire logic."""

    def __init__(self, parser: MultilineParser) -> None:
        self.timeout = parser.flush_ms / 1000.0
        self.partials: dict[str, _Partial] = {}
        self.times = Rfc3339Cache()
        self.truncated = 0

    def flush(self, out: list[Event]) -> None:
        for stream in list(self.partials):
            self._finish(stream, "", out)

    def expire(self, now: float, out: list[Event]) -> None:
        for stream, partial in list(self.partials.items()):
            if now - partial.touched >= self.timeout:
                self._finish(stream, "", out)

    def pending(self) -> bool:
        return bool(self.partials)

    def _continue(self, stream: str, when: int, record: dict[str, Any], text: str, out: list[Event]) -> None:
        """Add a non-final piece to its stream's group, opening one if needed."""
        partial = self.partials.get(stream)
        if partial is None:
            self.partials[stream] = _Partial(when, record, text)
            return
        if partial.size + len(text) > BUFFER_LIMIT:
            self.truncated += 1
            self._finish(stream, "", out)
            self.partials[stream] = _Partial(when, record, text)
            return
        partial.parts.append(text)
        partial.size += len(text)
        partial.touched = time.monotonic()

    def _finish(self, stream: str, text: str, out: list[Event]) -> None:
        """Close a stream's group with its final piece and emit it."""
        partial = self.partials.pop(stream)
        if text:
            partial.parts.append(text)
        record = partial.record
        record["log"] = "".join(partial.parts)
        out.append((partial.time, record))


class CriDecoder(_ContainerDecoder):
    """``multiline.parser cri`` over raw lines."""

    def decode(self, items: list[Any], start: int, end: int, ts: int, out: list[Event]) -> int:
        seconds = self.times.seconds
        partials = self.partials
        append = out.append
        streams = _STREAMS
        index = start
        for line in items[start:end] if start or end != len(items) else items:
            try:
                stamp, stream, tag, text = line.split(" ", 3)
            except ValueError:
                return index
            base = seconds.get(stamp[:19])
            if base is not None and stamp[29:] == "Z":
                when = base + int(stamp[20:29])
            else:
                when = self.times.parse(stamp) or now_ns()
            if tag == "F" and not partials and stream in streams:
                append((when, {"time": stamp, "stream": stream, "_p": "F", "log": text}))
            elif stream not in streams:
                return index
            elif tag == "F":
                if stream in partials:
                    self._finish(stream, text, out)
                else:
                    append((when, {"time": stamp, "stream": stream, "_p": "F", "log": text}))
            elif tag == "P":
                self._continue(stream, when, {"time": stamp, "stream": stream, "_p": "P", "log": ""}, text, out)
            else:
                return index
            index += 1
        return end


class DockerDecoder(_ContainerDecoder):
    """``multiline.parser docker`` over raw json-file lines."""

    def decode(self, items: list[Any], start: int, end: int, ts: int, out: list[Event]) -> int:
        seconds = self.times.seconds
        partials = self.partials
        append = out.append
        loads = orjson.loads
        for index in range(start, end):
            try:
                record = loads(items[index])
            except orjson.JSONDecodeError:
                return index
            if type(record) is not dict or too_deep(items[index], record):
                return index
            text = record.get("log")
            if type(text) is not str:
                return index
            stamp = record.get("time")
            when = ts
            if type(stamp) is str:
                base = seconds.get(stamp[:19])
                if base is not None and len(stamp) == 30 and stamp[29] == "Z":
                    when = base + int(stamp[20:29])
                else:
                    parsed = self.times.parse(stamp)
                    if parsed is not None:
                        when = parsed
            stream = record.get("stream")
            stream = stream if type(stream) is str else ""
            if text.endswith("\n"):
                if partials and stream in partials:
                    self._finish(stream, text, out)
                else:
                    append((when, record))
            else:
                self._continue(stream, when, record, text, out)
        return end
