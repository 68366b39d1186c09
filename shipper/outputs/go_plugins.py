"""What the aws-for-fluent-bit Go plugins (``cloudwatch``, ``firehose``, ``kinesis``) share.

Under those names aws-for-fluent-bit (and so EKS on Fargate) loads Go plugins
with their own option sets and encodings.  shipper maps each onto the same
delivery machinery as the C plugin for the same service; this module holds
the Go-specific pieces:

- :func:`go_json`: records as Go's ``encoding/json`` writes them (the plugins
  marshal with jsoniter's standard-library mode): map keys sorted, ``<``,
  ``>``, ``&``, U+2028 and U+2029 escaped, other characters kept as UTF-8;
- ``data_keys``, ``replace_dots`` and ``log_key`` as the plugins apply them;
- ``time_key_format`` with the Go strftime's ``%L`` (ms) and ``%f`` (µs);
- :func:`reject_unsupported`: options shipper does not implement are refused
  by ``check`` with their line, never silently ignored.
"""

from __future__ import annotations

from typing import Any

import orjson

from shipper.errors import ConfigError
from shipper.options import Option, Settings
from shipper.outputs.firehose_records import TimeFormatter

#: the Go strftime's sub-second specifiers (lestrrat-go/strftime with the plugins' options).
GO_FRACTIONS = {"%L": 3, "%f": 6}
GO_DEFAULT_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
COMPAT = "accepted for compatibility"

_GO_ESCAPES = ((b"<", b"\\u003c"), (b">", b"\\u003e"), (b"&", b"\\u0026"), ("\u2028".encode(), b"\\u2028"), ("\u2029".encode(), b"\\u2029"))


def go_option_table(*options: Option) -> tuple[Option, ...]:
    """``region``, ``endpoint``, ``role_arn`` and ``sts_endpoint`` (every Go plugin has them), then ``options``."""
    return (
        Option("region", required=True, help="AWS region, e.g. us-east-1"),
        Option("endpoint", help="custom service endpoint URL"),
        Option("role_arn", help="IAM role to assume for every call"),
        Option("sts_endpoint", help="custom STS endpoint used to assume role_arn"),
        *options,
    )


def go_json(value: Any) -> bytes:
    """``value`` as Go's encoding/json writes it (see the module doc)."""
    data = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    if b"<" in data or b">" in data or b"&" in data or b"\xe2\x80" in data:
        for raw, escaped in _GO_ESCAPES:
            data = data.replace(raw, escaped)
    return data


def go_time_formatter(fmt: str | None) -> TimeFormatter:
    return TimeFormatter(fmt or GO_DEFAULT_TIME_FORMAT, GO_FRACTIONS)


def parse_data_keys(text: str | None) -> frozenset[str] | None:
    """``data_keys``: a comma-separated list of top-level keys to keep (None = keep all)."""
    if not text:
        return None
    return frozenset(text.strip().split(","))


def replace_dots(value: Any, replacement: str) -> Any:
    """Keys with ``.`` replaced, in nested maps and in maps inside arrays too."""
    if isinstance(value, dict):
        return {key.replace(".", replacement): replace_dots(item, replacement) for key, item in value.items()}
    if isinstance(value, list):
        return [replace_dots(item, replacement) for item in value]
    return value


def log_key_data(record: dict[str, Any], key: str) -> bytes | None:
    """The ``log_key`` value as the Go plugins send it: a string raw, anything else as JSON; None when missing."""
    if key not in record:
        return None
    value = record[key]
    return value.encode("utf-8") if isinstance(value, str) else go_json(value)


def reject_unsupported(settings: Settings, unsupported: dict[str, str]) -> None:
    """Refuse, with its line, the first option set that shipper does not implement (name -> what to do)."""
    for name, advice in unsupported.items():
        if settings.is_set(name):
            raise ConfigError(f"option {name!r} of the Go plugin is not supported by shipper: {advice}", settings.where(name))
