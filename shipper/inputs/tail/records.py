"""Turning a batch of plain lines into events (no multiline parser).

The common case, ``{Key: line}``, is one list comprehension.  ``Path_Key``
and ``Offset_Key`` come first in the record, in that order, as Fluent Bit
writes them.  With ``Parser`` each line is parsed; a line the parser does
not match is kept whole under ``Key`` (Fluent Bit does the same).
"""

from __future__ import annotations

from typing import Any

from shipper.events import Event


def plain_events(
    lines: list[str],
    ts: int,
    key: str,
    parser: Any = None,
    path_key: str | None = None,
    path: str = "",
    offset_key: str | None = None,
    offsets: list[int] | None = None,
) -> list[Event]:
    """Events for one batch of lines read at ``ts``."""
    if parser is None and path_key is None and offset_key is None:
        return [(ts, {key: line}) for line in lines]
    results = parser.parse_lines(lines) if parser is not None else None
    if results is not None and path_key is None and offset_key is None:
        return [
            (ts, {key: line}) if parsed is None else (ts if parsed[0] is None else parsed[0], parsed[1])
            for line, parsed in zip(lines, results, strict=True)
        ]
    events: list[Event] = []
    for index, line in enumerate(lines):
        record: dict[str, Any] = {}
        if path_key is not None:
            record[path_key] = path
        if offset_key is not None and offsets is not None:
            record[offset_key] = offsets[index]
        when = ts
        parsed = results[index] if results is not None else None
        if parsed is None:
            record[key] = line
        else:
            parsed_time, fields = parsed
            record.update(fields)
            if parsed_time is not None:
                when = parsed_time
        events.append((when, record))
    return events


def with_path(events: list[Event], path_key: str, path: str) -> list[Event]:
    """Put ``Path_Key`` first in records made by a multiline parser."""
    return [(ts, {path_key: path, **record}) for ts, record in events]
