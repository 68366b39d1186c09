"""``file``: append records to a file named by ``File`` or by the tag.

A tag is data (``rewrite_tag`` can build one from a log line), so as a file
name it is made safe first: path separators and NUL become ``_``, and ``.``
or ``..`` alone become ``_``, so the file is always directly in ``Path``.
Fluent Bit uses the tag as it is.  ``File`` is configuration and is used as given.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import aiofiles

from shipper.events import Event
from shipper.jsonfmt import dumps, dumps_str
from shipper.options import Option
from shipper.outputs.formats import (
    DATE_FORMATS,
    date_value,
    json_line,
    out_file_line,
    seconds_dot_nanos,
)
from shipper.outputs.result import FlushResult
from shipper.packed import EventBatch, Packed
from shipper.plugin import DryRunBatch, Output, Rendered
from shipper.registry import register

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_DELIMITERS = {"\\t": "\t", "tab": "\t", "space": " ", "comma": ","}
_UNSAFE_IN_NAME = re.compile(r"[/\\\0]")


def tag_file_name(tag: str) -> str:
    """The tag as a plain file name: no separator, NUL, ``.`` or ``..`` can take it out of ``Path``."""
    name = _UNSAFE_IN_NAME.sub("_", tag)
    return "_" if name in ("", ".", "..") else name


def _plain(value: object) -> str:
    return value if isinstance(value, str) else dumps_str(value)


@register
class FileOutput(Output):
    name = "file"
    summary = "append records to a file"
    options = (
        Option("path", help="directory of the file (default: the working directory)"),
        Option("file", help="file name (default: the tag)"),
        Option("format", default="out_file", choices=("out_file", "plain", "json_lines", "csv", "ltsv", "template"),
               help="out_file writes 'tag: [sec.nsec, {json}]'"),
        Option("mkdir", "bool", default="off", help="create the directory if missing"),
        Option("delimiter", help="csv/ltsv field separator: \\t/tab, space or comma"),
        Option("label_delimiter", help="ltsv label separator (default ':')"),
        Option("template", default="{time} {message}", help="template format: {time} and {key} placeholders"),
        Option("json_date_key", default="date", help="time key of json_lines ('false' to omit)"),
        Option("json_date_format", default="double", choices=DATE_FORMATS),
    )

    def __init__(self, settings, context) -> None:  # type: ignore[no-untyped-def]
        super().__init__(settings, context)
        self.format = settings["format"].lower()
        default_delimiter = "\t" if self.format == "ltsv" else ","
        self.delimiter = _DELIMITERS.get((settings.get("delimiter") or "").lower(), default_delimiter)
        self.label_delimiter = settings.get("label_delimiter") or ":"
        key = settings["json_date_key"]
        self.date_key = None if key.lower() in ("false", "off") else key
        self.date_format = settings["json_date_format"].lower()

    def path_for(self, tag: str) -> Path:
        directory = self.settings.get("path")
        name = self.settings.get("file") or tag_file_name(tag)
        return Path(directory, name) if directory else Path(name)

    def line(self, tag: str, event: Event) -> str:
        ts, record = event
        fmt = self.format
        if fmt == "out_file":
            return out_file_line(tag, event)
        if fmt == "plain":
            return dumps_str(record)
        if fmt == "json_lines":
            return json_line(event, self.date_key, self.date_format)
        if fmt == "csv":
            return self.delimiter.join([seconds_dot_nanos(ts), *(dumps_str(v) for v in record.values())])
        if fmt == "ltsv":
            pairs = [f'"time"{self.label_delimiter}{seconds_dot_nanos(ts)}']
            pairs += [f"{dumps_str(k)}{self.label_delimiter}{dumps_str(v)}" for k, v in record.items()]
            return self.delimiter.join(pairs)
        values = {"time": seconds_dot_nanos(ts), **{k: _plain(v) for k, v in record.items()}}
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), self.settings["template"])

    def render(self, tag: str, events: list[Event] | EventBatch) -> bytes:
        """The lines to append, as one bytes object."""
        return b"".join(self._buffers(tag, events))

    def _buffers(self, tag: str, events: list[Event] | EventBatch) -> list[bytes]:
        """The lines to append as buffers written in turn, taken from the records' packed JSON where the format is that JSON.

        A batch can be tens of megabytes (the kubernetes map makes each line
        several times its source), so its pieces are written as they are
        rather than copied into one object first.
        """
        if isinstance(events, EventBatch):
            if self.format in ("plain", "json_lines", "out_file"):
                buffers: list[bytes] = []
                for packed in events.packs:
                    lines = self._packed_lines(tag, packed)
                    if lines is None:
                        break
                    buffers += lines
                else:
                    return buffers
            events = events.decoded()
        return ["".join(self.line(tag, e) + "\n" for e in events).encode("utf-8", "surrogateescape")]

    def _packed_lines(self, tag: str, packed: Packed) -> list[bytes] | None:
        """One piece's lines, as buffers, without decoding its records; None when it must be decoded."""
        if not packed.encoded:
            return None
        times, body = packed.json_lines()
        if self.format == "plain" or (self.format == "json_lines" and not self.date_key):
            return [body, b"\n"]
        lines = body.split(b"\n")
        if self.format == "out_file":
            prefix = tag.encode("utf-8", "surrogateescape") + b": ["
            return [b"".join(b"%s%s, %s]\n" % (prefix, seconds_dot_nanos(ts).encode(), line)
                             for ts, line in zip(times, lines, strict=True))]
        key = dumps(self.date_key)
        if b"%s:" % key in body:
            return None  # a record has its own date key, which json_lines lets win: decode
        fmt = self.date_format
        return [b"".join(b"{%s:%s%s%s\n" % (key, dumps(date_value(ts, fmt)), b"," if len(line) > 2 else b"", line[1:])
                         for ts, line in zip(times, lines, strict=True))]

    async def flush_batch(self, tag: str, batch: EventBatch) -> FlushResult:
        return await self._append(tag, batch)

    async def flush(self, tag: str, events: list[Event]) -> FlushResult:
        return await self._append(tag, events)

    async def _append(self, tag: str, events: list[Event] | EventBatch) -> FlushResult:
        path = self.path_for(tag)
        buffers = self._buffers(tag, events)
        try:
            if self.settings["mkdir"]:
                path.parent.mkdir(parents=True, exist_ok=True)
            async with aiofiles.open(path, "ab") as fh:
                await fh.writelines(buffers)
        except OSError as exc:
            return FlushResult(events.decoded() if isinstance(events, EventBatch) else events,
                               f"cannot write {path}: {exc.strerror or exc}")
        return FlushResult.ok()

    def dry_run(self, tag: str, events: list[Event]) -> DryRunBatch:
        destination = {"path": os.path.abspath(self.path_for(tag))}
        return DryRunBatch([Rendered(destination, self.line(tag, e), e[0]) for e in events], 1 if events else 0)

