"""``Types`` (``key:integer key2:float ...``): typecasting of parsed string values.

Fluent Bit casts with C's ``strtoll``/``strtod``/``strtoull(.., 16)``, so a
numeric prefix wins and garbage becomes 0 (golden case 17: ``12abc`` -> 12,
``abc`` as float -> 0.0, hex ``zz`` -> 0, ``0x1F`` -> 31); a bool that is not
``true``/``false`` (any case) stays a string.  Only string values are cast.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from shipper.errors import ConfigError

_INT_PREFIX = re.compile(r"\s*([+-]?\d+)")
_FLOAT_PREFIX = re.compile(r"\s*([+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|inf(?:inity)?|nan))", re.I)
_HEX_PREFIX = re.compile(r"\s*(?:0[xX])?([0-9a-fA-F]+)")
_INT64_MIN, _INT64_MAX, _UINT64_MAX = -(2**63), 2**63 - 1, 2**64 - 1


def to_integer(text: str) -> int:
    """``strtoll``: the leading integer, clamped to int64; 0 when there is none."""
    match = _INT_PREFIX.match(text)
    if match is None:
        return 0
    digits = match.group(1)
    if len(digits.lstrip("+-").lstrip("0")) > 19:  # beyond int64 either way (and int() refuses huge texts)
        return _INT64_MIN if digits[0] == "-" else _INT64_MAX
    return min(max(int(digits), _INT64_MIN), _INT64_MAX)


def to_float(text: str) -> float:
    """``strtod``: the leading number; 0.0 when there is none."""
    match = _FLOAT_PREFIX.match(text)
    return float(match.group(1)) if match else 0.0


def to_hex(text: str) -> int:
    """``strtoull(text, 16)``: leading hex digits (optional 0x), clamped to uint64."""
    match = _HEX_PREFIX.match(text)
    return min(int(match.group(1), 16), _UINT64_MAX) if match else 0


def to_bool(text: str) -> Any:
    """``true``/``false`` in any case; anything else stays the original string."""
    word = text.lower()
    if word == "true":
        return True
    if word == "false":
        return False
    return text


CASTS: dict[str, Callable[[str], Any]] = {
    "integer": to_integer,
    "int": to_integer,
    "float": to_float,
    "hex": to_hex,
    "bool": to_bool,
    "string": str,
}


def parse_types(spec: str) -> dict[str, Callable[[str], Any]]:
    """``Types code:integer ok:bool`` -> {key: cast}; raises ConfigError on an unknown type."""
    casts: dict[str, Callable[[str], Any]] = {}
    for item in spec.split():
        key, sep, kind = item.rpartition(":")
        if not sep or not key:
            raise ConfigError(f"Types: {item!r} is not KEY:TYPE")
        cast = CASTS.get(kind.lower())
        if cast is None:
            raise ConfigError(f"Types: unknown type {kind!r} for {key!r} (integer, float, bool, hex, string)")
        casts[key] = cast
    return casts


def apply_types(record: dict[str, Any], casts: dict[str, Callable[[str], Any]]) -> None:
    """Cast the string values of ``record`` named in ``casts``, in place."""
    for key, cast in casts.items():
        value = record.get(key)
        if type(value) is str:
            record[key] = cast(value)
