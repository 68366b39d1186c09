"""``kinesis``: the aws-for-fluent-bit Go plugin for Kinesis Data Streams, on kinesis_streams' machinery.

The option table is the Go plugin's (amazon-kinesis-streams-for-fluent-bit);
requests, limits, transport and partial-failure handling are
:mod:`shipper.outputs.kinesis_streams`'.  What differs is the record:

- the record as Go JSON (:func:`~shipper.outputs.go_plugins.go_json`), after
  ``time_key`` is set, ``data_keys`` filter and ``replace_dots``; or the
  ``log_key`` value; then a newline only with ``append_newline``;
- ``compression`` zlib or gzip, per record;
- ``partition_key``: the record's value at that key (``a->b`` for nested
  keys; strings only, cut to 256 characters), else a random key;
- ``aggregation``: KPL aggregated records (:mod:`~shipper.outputs.kinesis_streams.aggregation`).
  Without ``partition_key`` an aggregate gets one random key, as the Go
  plugin's aggregate is routed by its first key anyway.
"""

from __future__ import annotations

import dataclasses
import gzip
import zlib
from collections.abc import Callable, Iterator
from typing import Any

from shipper.aws import AwsSettings
from shipper.errors import ConfigError
from shipper.events import Event
from shipper.options import Option, Settings
from shipper.outputs.go_plugins import GO_RECORD_OPTIONS, GoRecordEncoder, go_option_table
from shipper.outputs.kinesis_streams.aggregation import DEFAULT_SKIP_SIZE, Aggregator
from shipper.outputs.kinesis_streams.output import KinesisStreams, Refused
from shipper.outputs.kinesis_streams.records import (
    MAX_PARTITION_KEY_CHARS,
    MAX_RECORD_BYTES,
    Entry,
    random_key,
)
from shipper.plugin import Context
from shipper.registry import register

#: the Go plugin's random partition keys are 8 characters.
RANDOM_KEY_CHARS = 8

COMPRESSORS: dict[str, Callable[[bytes], bytes] | None] = {
    "none": None,
    "zlib": zlib.compress,
    "gzip": lambda data: gzip.compress(data, mtime=0),
}


@register
class Kinesis(KinesisStreams):
    name = "kinesis"
    summary = "send records to Amazon Kinesis Data Streams with the aws-for-fluent-bit Go plugin's options"
    options = go_option_table(
        Option("stream", required=True, help="name of the Kinesis data stream"),
        Option("partition_key", help="record key whose value is the partition key (a->b for nested keys); random if unset"),
        *GO_RECORD_OPTIONS,
        Option("append_newline", "bool", default="false", help="add a newline after each record"),
        Option("compression", choices=("zlib", "gzip", "none"), help="compress each record"),
        Option("aggregation", "bool", default="false", help="send KPL aggregated records"),
        Option("aggregation_maximum_record_size", "int", default=MAX_RECORD_BYTES, help="largest aggregated record, bytes"),
        Option("skip_aggregation_record_size", "int", default=DEFAULT_SKIP_SIZE, help="records this big are sent unaggregated"),
        Option("http_request_timeout", "int", default=0, help="seconds to wait for a response (0 = shipper's default, 30)"),
    )

    def __init__(self, settings: Settings, context: Context) -> None:
        super().__init__(settings, context)
        key = settings.get("partition_key") or None
        if key == "log":
            raise ConfigError("'log' cannot be set as the partition key (as in the Go plugin)", settings.where("partition_key"))
        self.partition_path: list[str] | None = key.split("->") if key else None
        self.encode = GoRecordEncoder(settings)
        self.newline = b"\n" if settings["append_newline"] else b""
        self.compress = COMPRESSORS[(settings.get("compression") or "none").lower()]
        self.aggregate: bool = settings["aggregation"]
        self.aggregate_limit: int = settings["aggregation_maximum_record_size"]
        self.skip_size: int = settings["skip_aggregation_record_size"]
        for name in ("aggregation_maximum_record_size", "skip_aggregation_record_size", "http_request_timeout"):
            if settings[name] < 0:
                raise ConfigError(f"{name} must not be negative", settings.where(name))

    def aws_settings(self, settings: Settings, max_connections: int) -> AwsSettings:
        aws = super().aws_settings(settings, max_connections)
        timeout = settings["http_request_timeout"]
        return dataclasses.replace(aws, read_timeout=float(timeout)) if timeout else aws

    def _partition_key(self, record: dict[str, Any]) -> str | None:
        """The record's partition key value (a non-empty string), or None."""
        if self.partition_path is None:
            return None
        value: Any = record
        for step in self.partition_path:
            if not isinstance(value, dict) or step not in value:
                return None
            value = value[step]
        if not isinstance(value, str) or not value:
            return None
        return value[:MAX_PARTITION_KEY_CHARS]

    def _data(self, ts: int, record: dict[str, Any]) -> bytes | None:
        data = self.encode(ts, record)
        if data is None:
            return None
        data += self.newline
        return self.compress(data) if self.compress is not None else data

    def shown(self, entry: Entry, index: int, events: list[Event]) -> str:
        """The user record's text before compression and aggregation (those apply on the wire)."""
        ts, record = events[index]
        return ((self.encode(ts, record) or b"") + self.newline).decode("utf-8")

    def entries(self, tag: str, events: list[Event], refused: Refused) -> Iterator[tuple[Entry, list[int]]]:
        aggregator = Aggregator(self.aggregate_limit, self.skip_size, _random_key) if self.aggregate else None
        for index, (ts, record) in enumerate(events):
            data = self._data(ts, record)
            if data is None:
                refused.append((index, "missing_log_key"))
                continue
            key = self._partition_key(record)
            if aggregator is None:
                yield Entry(data, key or _random_key()), [index]
            else:
                yield from aggregator.add(key, data, index)
        if aggregator is not None and (last := aggregator.finish()) is not None:
            yield last


def _random_key() -> str:
    return random_key(RANDOM_KEY_CHARS)
