"""What the aws-for-fluent-bit Go plugins (``cloudwatch``, ``firehose``, ``kinesis``) share.

Under those names aws-for-fluent-bit (and so EKS on Fargate) loads Go plugins
with their own option sets and encodings.  shipper maps each onto the same
delivery machinery as the C plugin for the same service; this module holds
the Go-specific pieces:

- :func:`go_json`: records as Go's ``encoding/json`` writes them (the plugins
  marshal with jsoniter's standard-library mode): map keys sorted, ``<``,
  ``>``, ``&``, U+2028 and U+2029 escaped, other characters kept as UTF-8,
  floats in Go's form (``3`` for 3.0, ``1e-07`` as ``1e-7``);
- ``data_keys``, ``replace_dots`` and ``log_key`` as the plugins apply them;
- ``time_key_format`` with the Go strftime's ``%L`` (ms) and ``%f`` (µs).
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

import orjson

from shipper.errors import ConfigError
from shipper.jsonfmt import reprint_doubles
from shipper.options import Option, Settings
from shipper.outputs.kinesis_firehose.request import TimeFormatter

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


def go_float(value: float) -> str:
    """A float64 as Go's encoding/json prints it: shortest digits, plain between 1e-6 and 1e21, ``1e-7`` style outside."""
    if math.isnan(value) or math.isinf(value):
        return "null"  # Go refuses to encode them; the record must still go out
    magnitude = abs(value)
    if magnitude == 0 or 1e-6 <= magnitude < 1e21:
        text = format(Decimal(repr(value)), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    text = repr(value)
    mantissa, _, exponent = text.partition("e")
    sign, digits = exponent[0], exponent[1:].lstrip("0") or "0"
    return f"{mantissa}e{sign}{digits.zfill(2) if sign == '+' else digits}"


def go_json(value: Any) -> bytes:
    """``value`` as Go's encoding/json writes it (see the module doc)."""
    try:
        data = orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    except TypeError:  # integers over 64 bits
        data = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()
    data = reprint_doubles(value, data, go_float)
    if b"<" in data or b">" in data or b"&" in data or b"\xe2\x80" in data:
        for raw, escaped in _GO_ESCAPES:
            data = data.replace(raw, escaped)
    return data


#: how the Go firehose and kinesis plugins turn a record into data, and how many goroutines they flush with.
GO_RECORD_OPTIONS = (
    Option("data_keys", help="comma-separated keys: send only these"),
    Option("log_key", help="send only this key's value (strings raw, other values as JSON)"),
    Option("time_key", help="add the record time under this key"),
    Option("time_key_format", default=GO_DEFAULT_TIME_FORMAT, help="strftime format of time_key; %L ms, %f µs"),
    Option("replace_dots", help="replace '.' in key names with this text"),
    Option("experimental_concurrency", "int", default=0, ignored=True, help=f"{COMPAT}: shipper sends concurrently per Workers, without dropping"),
    Option("experimental_concurrency_retries", "int", default=4, ignored=True, help=f"{COMPAT}: Retry_Limit governs retries"),
)
MAX_EXPERIMENTAL_CONCURRENCY = 10


class GoRecordEncoder:
    """A record's data as the Go firehose and kinesis plugins build it (:data:`GO_RECORD_OPTIONS`).

    ``time_key`` is set first (so ``data_keys`` must name it to keep it), then
    ``data_keys`` filter, then ``replace_dots``; the result is Go JSON, or with
    ``log_key`` that value alone.  None means the record has no ``log_key``.
    """

    def __init__(self, settings: Settings) -> None:
        self.time_key: str | None = settings.get("time_key") or None
        self.time_format = TimeFormatter(settings.get("time_key_format") or GO_DEFAULT_TIME_FORMAT, GO_FRACTIONS)
        text = settings.get("data_keys")
        self.data_keys = frozenset(text.strip().split(",")) if text else None
        self.dots: str | None = settings.get("replace_dots")
        self.log_key: str | None = settings.get("log_key") or None
        if not 0 <= settings["experimental_concurrency"] <= MAX_EXPERIMENTAL_CONCURRENCY:
            raise ConfigError(
                f"experimental_concurrency must be 0 to {MAX_EXPERIMENTAL_CONCURRENCY}", settings.where("experimental_concurrency")
            )

    def __call__(self, ts: int, record: dict[str, Any]) -> bytes | None:
        if self.time_key is not None:
            record = {**record, self.time_key: self.time_format(ts)}
        if self.data_keys is not None:
            record = {k: v for k, v in record.items() if k in self.data_keys}
        if self.dots is not None:
            record = replace_dots(record, self.dots)
        return log_key_data(record, self.log_key) if self.log_key else go_json(record)


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
