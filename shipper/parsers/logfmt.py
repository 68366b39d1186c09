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

_PAIR = re.compile(r'([^\x00-\x20="]+)(?:(=)(?:"((?:[^"\\]|\\.|\\\Z)*)"?|([^\x00-\x20="]*)))?', re.DOTALL)


class LogfmtParser(Parser):
    format = "logfmt"

    def __init__(self, name: str, no_bare_keys: bool = False, **common: Any) -> None:
        super().__init__(name, **common)
        self.no_bare_keys = no_bare_keys

    def parse(self, text: str | bytes) -> Result | None:
        record: dict[str, Any] = {}
        ts = None
        time_fmt, time_key = self.time, self.time_key
        for match in _PAIR.finditer(text if type(text) is str else as_text(text)):
            key, eq, quoted, plain = match.groups()
            if not eq and self.no_bare_keys:
                return None
            value: Any
            if quoted is not None:
                value = unescape(quoted, utf8=True)
            elif plain:
                value = plain
            else:
                value = True
            if time_fmt is not None and key == time_key and type(value) is str and value:
                ts = time_fmt.parse(value)
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
