"""The option table of ``cloudwatch_logs``: Fluent Bit's C plugin options, named as it names them."""

from __future__ import annotations

from shipper.aws import AWS_OPTIONS
from shipper.options import Option
from shipper.plugin import NET_OPTIONS, TLS_OPTIONS

OPTIONS: tuple[Option, ...] = (
    *AWS_OPTIONS,
    Option("log_group_name", required=True, help="log group (the fallback when log_group_template fails)"),
    Option("log_group_template", help="record accessor template for the group, e.g. /eks/$kubernetes['namespace_name']"),
    Option("log_stream_name", help="log stream (the fallback when log_stream_template fails)"),
    Option("log_stream_prefix", help="stream name = this prefix + the record's tag"),
    Option("log_stream_template", help="record accessor template for the stream"),
    Option("log_key", help="send only this key's value (raw) instead of the whole record as JSON"),
    Option("log_format", help="json/emf marks events as Embedded Metric Format (x-amzn-logs-format header)"),
    Option("auto_create_group", "bool", default="off", help="create the log group when it does not exist"),
    Option("log_group_class", choices=("standard", "infrequent_access"), help="class of groups this output creates"),
    Option("log_retention_days", "int", default=0, help="retention set on groups this output creates (0 = never expire)"),
    Option("extra_user_agent", help="text appended to the User-Agent"),
    Option("metric_namespace", ignored=True, help="accepted for compatibility (EMF from metrics records is not supported)"),
    Option("metric_dimensions", ignored=True, help="accepted for compatibility (EMF from metrics records is not supported)"),
    *NET_OPTIONS,
    *TLS_OPTIONS,
)
