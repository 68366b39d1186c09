"""``Format regex``: named groups of an Onigmo regex become the record.

The regex is searched (not anchored) as Onigmo does.  Groups that did not
take part in the match are left out, and so are empty captures while
``Skip_Empty_Values`` is on (the default; golden cases 17 and 20).  A time
that does not fit ``Time_Format`` drops the time key even with ``Time_Keep``
(golden case 21), unlike the json parser.
"""

from __future__ import annotations

from typing import Any

from shipper.parsers.base import Parser, Result, as_text
from shipper.parsers.onigmo import compile_onigmo


class RegexParser(Parser):
    format = "regex"

    def __init__(self, name: str, regex: str, **common: Any) -> None:
        super().__init__(name, **common)
        self.regex = compile_onigmo(regex)
        self._search = self.regex.search

    def parse(self, text: str | bytes) -> Result | None:
        match = self._search(text if type(text) is str else as_text(text))
        if match is None:
            return None
        if self.skip_empty:
            record = {k: v for k, v in match.groupdict().items() if v}
        else:
            record = {k: v for k, v in match.groupdict().items() if v is not None}
        ts = None
        if self.time is not None:
            value = record.get(self.time_key)
            if value is not None:
                ts = self.time.parse(value)
                if ts is None:
                    self.time_failed(value)
                    del record[self.time_key]
                elif not self.time_keep:
                    del record[self.time_key]
        if self.post:
            self.finish(record)
        return ts, record
