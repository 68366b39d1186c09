"""The option table of ``kinesis_firehose``: Fluent Bit's C plugin options, named as it names them."""

from __future__ import annotations

from shipper.aws import AWS_OPTIONS
from shipper.options import Option
from shipper.plugin import NET_OPTIONS, TLS_OPTIONS

OPTIONS: tuple[Option, ...] = (
    *AWS_OPTIONS,
    Option("delivery_stream", required=True, help="name of the Firehose delivery stream"),
    Option("time_key", help="add the record time under this key"),
    Option("time_key_format", default="%Y-%m-%dT%H:%M:%S", help="strftime format of time_key; %3N ms, %9N/%L ns"),
    Option("log_key", help="send only this key's value instead of the whole record"),
    Option("compression", choices=("gzip", "zstd", "arrow", "none"), help="compress each record: gzip, or zstd with the zstandard package"),
    Option("simple_aggregation", "bool", default="off", ignored=True, help="accepted for compatibility; records are sent one per Firehose record"),
    *NET_OPTIONS,
    *TLS_OPTIONS,
)
