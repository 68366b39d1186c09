"""``Format json``: the text must be one JSON object (golden case 16).

Leading whitespace and text after the closing brace are ignored; a
top-level array, a scalar or invalid JSON does not match, and neither does
an object nested deeper than the outputs can encode
(:data:`shipper.jsonfmt.MAX_PARSED_DEPTH`): such a text stays a string.  A time that does
not fit ``Time_Format`` (or is not a string) leaves the time key in the
record, unlike the regex parser.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from shipper.jsonfmt import too_deep
from shipper.parsers.base import Parser, Result, as_text

_loads = orjson.loads
_JSONDecodeError = orjson.JSONDecodeError
_raw_decode = json.JSONDecoder().raw_decode
#: a JSON object starts with a brace, as text or as bytes.
_BRACE = ("{", b"{")


def _lenient(text: str | bytes) -> Any:
    """The first JSON object of ``text`` (what orjson refuses: trailing text, huge ints)."""
    try:
        return _raw_decode(as_text(text).lstrip())[0]
    except (ValueError, RecursionError):
        return None


class JsonParser(Parser):
    format = "json"

    def parse(self, text: str | bytes) -> Result | None:
        # Plain-text lines are the usual non-match: turn them away before orjson,
        # whose JSONDecodeError costs more to build than the parse itself.
        if text[:1] not in _BRACE and text.lstrip()[:1] not in _BRACE:
            return None
        try:
            record = _loads(text)
        except _JSONDecodeError:
            record = _lenient(text)
        if type(record) is not dict:
            return None
        if too_deep(text, record):
            self.too_deep += 1
            return None
        ts = None
        if self.time is not None and self.time_key in record:
            value = record[self.time_key]
            ts = self.time.parse(value) if type(value) is str else None
            if ts is None:
                self.time_failed(value)
            elif not self.time_keep:
                del record[self.time_key]
        if self.post:
            self.finish(record)
        return ts, record
