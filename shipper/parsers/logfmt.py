"""``Format logfmt``: ``key=value key2="quoted value" flag`` (golden case 18).

Follows Fluent Bit's scanner: keys and unquoted values are runs of bytes
above space other than ``=`` and ``"``; anything else between pairs is
skipped.  A bare key and ``key=`` both become ``true``, ``key=""`` an empty
string; quoted values are unescaped and an unterminated quote runs to the end.
``Logfmt_No_Bare_Keys On`` makes a line with a bare key fail as a whole, and so
does a time that does not fit ``Time_Format``.  Values are strings until
``Types`` casts them.
"""

from __future__ import annotations

import re
from typing import Any

from shipper.parsers.base import Parser, Result, as_text
from shipper.parsers.decoders import unescape

_PAIR = re.compile(r'([^\x00-\x20="]+)(?:(=)(?:(")((?:[^"\\]|\\.|\\\Z)*)"?|([^\x00-\x20="]*)))?', re.DOTALL)


class LogfmtParser(Parser):
    format = "logfmt"

    def __init__(self, name: str, no_bare_keys: bool = False, **common: Any) -> None:
        super().__init__(name, **common)
        self.no_bare_keys = no_bare_keys

    def parse(self, text: str | bytes) -> Result | None:
        record: dict[str, Any] = {}
        ts = None
        no_bare_keys, time_key = self.no_bare_keys, self.time_key if self.time is not None else None
        for key, eq, quote, quoted, plain in _PAIR.findall(text if type(text) is str else as_text(text)):
            value: Any
            if quote:
                value = unescape(quoted, utf8=True) if "\\" in quoted else quoted
            elif plain:
                value = plain
            elif eq or not no_bare_keys:
                value = True
            else:
                return None
            if key == time_key and type(value) is str and value:
                assert self.time is not None
                ts = self.time.parse(value)
                if ts is None:
                    self.time_failed(value)
                    return None
                if not self.time_keep:
                    continue
            record[key] = value
        if not record:
            return None
        if self.post:
            self.finish(record)
        return ts, record
