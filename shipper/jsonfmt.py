"""JSON text exactly as Fluent Bit writes it, at orjson speed.

Every output that sends JSON (stdout, file, cloudwatch_logs, firehose,
opensearch) must produce the bytes Fluent Bit produces, because users'
dashboards, metric filters and golden cases compare them.  Fluent Bit's
encoder differs from orjson in two ways we must reproduce:

- non-ASCII characters are written as ``\\uXXXX`` escapes (surrogate pairs
  beyond the BMP);
- doubles are printed with C's ``%.16g``, and integral doubles as ``%.1f``
  (``1e-07``, ``3.0``), where orjson prints the shortest round-trip form.

orjson does the heavy lifting.  Scanning its text for floats costs more than
encoding (timestamps and IP addresses look like numbers), so the record is
walked instead: the float fix-up runs only when the record holds a double
that orjson prints differently from ``%.16g`` (an exponent, 17 significant
digits, a huge integral value).  Ordinary records pay one type walk and one
``isascii``.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from collections.abc import Callable, Iterable
from typing import Any

import orjson

# JSON strings are skipped whole (unrolled-loop form, fast in `re`) so digits inside them are never touched.
_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?')


def _escape_non_ascii(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeEncodeError)
    out = []
    for char in error.object[error.start : error.end]:
        code = ord(char)
        if code > 0xFFFF:
            code -= 0x10000
            out.append(f"\\u{0xD800 | (code >> 10):04x}\\u{0xDC00 | (code & 0x3FF):04x}")
        else:
            out.append(f"\\u{code:04x}")
    return "".join(out), error.end


codecs.register_error("shipper-json-escape", _escape_non_ascii)


def format_double(value: float) -> str:
    """A double as Fluent Bit prints it inside JSON."""
    if math.isnan(value) or math.isinf(value):
        return "null"
    if value == int(value) and abs(value) < 1e300:
        return f"{value:.1f}"
    return f"{value:.16g}"


def _needs_float_fix(obj: Any, fmt: Callable[[float], str]) -> bool:
    """True when ``obj`` holds a double that orjson prints unlike ``fmt``."""
    if type(obj) is float:
        return orjson.dumps(obj) != fmt(obj).encode()
    if type(obj) is not dict and type(obj) is not list:
        return False
    stack = [obj]
    while stack:
        container = stack.pop()
        for value in container.values() if type(container) is dict else container:
            kind = type(value)
            if kind is str or kind is int or kind is bool or value is None:
                continue
            if kind is float:
                if orjson.dumps(value) != fmt(value).encode():
                    return True
            elif kind is dict or kind is list:
                stack.append(value)
    return False


def reprint_doubles(obj: Any, data: bytes, fmt: Callable[[float], str]) -> bytes:
    """``data``, orjson's JSON text of ``obj``, with its doubles printed by ``fmt`` instead.

    The record is walked first; the text is only re-tokenised when some double
    prints differently, so ordinary records pay one type walk.
    """
    if not _needs_float_fix(obj, fmt):
        return data

    def fix(match: re.Match[bytes]) -> bytes:
        token = match.group()
        if token[:1] == b'"' or not any(c in token for c in b".eE"):
            return token
        return fmt(float(token)).encode()

    return _TOKEN.sub(fix, data)


def _fallback(obj: Any) -> bytes:
    """Python's json for what orjson refuses (integers over 64 bits, lone surrogates)."""
    text = json.dumps(obj, ensure_ascii=True, separators=(",", ":"), default=str)
    return text.encode("ascii")


class EncodedMap(dict[str, Any]):
    """A map shared by many records whose JSON is written once and copied into theirs.

    The kubernetes filter gives every record of a container the same map
    (pod, namespace, labels, annotations...), often larger than the log
    line itself.  :func:`dumps` encodes it on first use and then inserts the
    bytes (``orjson.Fragment``) instead of walking it again per record.  The
    map must not change once shared; filters that edit it copy it first.
    """

    __slots__ = ("_fragment",)

    def fragment(self) -> orjson.Fragment:
        """The map's JSON, computed on first use."""
        try:
            return self._fragment
        except AttributeError:
            self._fragment: orjson.Fragment = orjson.Fragment(dumps(dict(self)))
            return self._fragment


def _subclass(obj: Any) -> Any:
    """orjson's ``default`` with OPT_PASSTHROUGH_SUBCLASS: shared maps as fragments, other subclasses as their base."""
    if obj.__class__ is EncodedMap:
        return obj.fragment()
    if isinstance(obj, dict):
        return dict(obj)
    if isinstance(obj, str):
        return str(obj)
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, list):
        return list(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_SUBCLASS


def dumps(obj: Any) -> bytes:
    """Compact JSON of ``obj`` as Fluent Bit's encoder writes it."""
    try:
        data = orjson.dumps(obj, default=_subclass, option=_OPTIONS)
    except TypeError:
        data = _fallback(obj)
    data = reprint_doubles(obj, data, format_double)
    if not data.isascii():
        data = _escape_to_ascii(data)
    return data


def _escape_to_ascii(data: bytes) -> bytes:
    return data.decode("utf-8").encode("ascii", "shipper-json-escape")


def dumps_lines(records: Iterable[Any]) -> bytes:
    """Records as :func:`dumps` writes each, one per line (JSON text never holds a raw newline).

    What an output's buffer holds (:mod:`shipper.packed`), so it is built in
    one pass: the non-ASCII check and escape run once over all the lines.
    Raises TypeError where :func:`dumps` would fall back to Python's json
    (an integer over 64 bits, a lone surrogate): orjson would not read such
    records back as they were.
    """
    encode, needs_fix, options = orjson.dumps, _needs_float_fix, _OPTIONS
    lines = []
    for record in records:
        data = encode(record, default=_subclass, option=options)
        if needs_fix(record, format_double):
            data = reprint_doubles(record, data, format_double)
        lines.append(data)
    body = b"\n".join(lines)
    return body if body.isascii() else _escape_to_ascii(body)


def dumps_str(obj: Any) -> str:
    """:func:`dumps` as text."""
    return dumps(obj).decode("ascii")


#: orjson, which every output encodes with, refuses values nested deeper than this.
ENCODER_MAX_DEPTH = 255
#: levels kept free for filters to add above a parsed value (Merge_Log_Key, nest, lift).
FILTER_HEADROOM = 55
#: the deepest a parser may build: anything deeper stays the string it was.
MAX_PARSED_DEPTH = ENCODER_MAX_DEPTH - FILTER_HEADROOM


def too_deep(text: str | bytes, value: Any) -> bool:
    """True when ``value``, parsed from the JSON ``text``, nests deeper than :data:`MAX_PARSED_DEPTH`.

    A parser must not produce what the outputs cannot encode (one such record
    would otherwise fail every flush of its batch).  The text is the cheap
    test: a value can only be that deep if the text is at least twice as long
    and holds that many opening brackets.  Only then is the depth measured, at
    C speed: orjson encodes the value under ``FILTER_HEADROOM`` extra levels
    and refuses it exactly when it is too deep.
    """
    if len(text) <= 2 * MAX_PARSED_DEPTH:
        return False
    if isinstance(text, str):
        opening = text.count("{") + text.count("[")
    else:
        opening = text.count(b"{") + text.count(b"[")
    if opening <= MAX_PARSED_DEPTH:
        return False
    wrapped = value
    for _ in range(FILTER_HEADROOM):
        wrapped = [wrapped]
    try:
        orjson.dumps(wrapped, option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError as exc:  # also raised for integers over 64 bits, which are fine
        return "recursion" in str(exc).lower()
    return False
