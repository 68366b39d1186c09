"""Record renderings shared by the stdout and file outputs."""

from __future__ import annotations

from typing import Any

from shipper.events import Event, format_rfc3339_ns
from shipper.jsonfmt import dumps_str, format_double

DATE_FORMATS = ("double", "epoch", "epoch_ms", "iso8601", "java_sql_timestamp")


def date_value(ts_ns: int, fmt: str) -> Any:
    """The ``json_date_key`` value in Fluent Bit's ``json_date_format``."""
    if fmt == "epoch":
        return ts_ns // 1_000_000_000
    if fmt == "epoch_ms":
        return ts_ns // 1_000_000
    if fmt == "iso8601":
        return format_rfc3339_ns(ts_ns)[:26] + "Z"
    if fmt == "java_sql_timestamp":
        return format_rfc3339_ns(ts_ns)[:26].replace("T", " ")
    return round(ts_ns / 1e9, 6)


def json_line(event: Event, date_key: str | None, date_format: str) -> str:
    """A record as JSON with its time under ``date_key`` first (``json_lines``)."""
    ts, record = event
    if not date_key:
        return dumps_str(record)
    return dumps_str({date_key: date_value(ts, date_format), **record})


def seconds_dot_nanos(ts_ns: int) -> str:
    secs, nanos = divmod(ts_ns, 1_000_000_000)
    return f"{secs}.{nanos:09d}"


def out_file_line(tag: str, event: Event) -> str:
    """The file output's default ``out_file`` line: ``tag: [sec.nsec, {json}]``."""
    return f"{tag}: [{seconds_dot_nanos(event[0])}, {dumps_str(event[1])}]"


def msgpack_display(value: Any) -> str:
    """Fluent Bit's msgpack print form: ``{"k"=>"v", "n"=>1}``."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{msgpack_display(k)}=>{msgpack_display(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(msgpack_display(v) for v in value) + "]"
    if isinstance(value, str):
        return dumps_str(value)
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_double(value)
    return str(value)
