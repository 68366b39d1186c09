"""``Format ltsv``: ``label:value<TAB>label:value`` (golden case 18).

As Fluent Bit: labels are ``[0-9A-Za-z_.-]``, a value runs to the next tab,
values may contain ``:``, and the first field that is not ``label:value``
ends the record (the fields before it are kept).  A time that does not fit
``Time_Format`` makes the whole line fail.
"""

from __future__ import annotations

import re
from typing import Any

from shipper.parsers.base import Parser, Result, as_text

_LABEL = re.compile(r"[0-9A-Za-z_.\-]*")
_LINE_END = re.compile(r"[\r\n\x00]")


class LtsvParser(Parser):
    format = "ltsv"

    def parse(self, text: str | bytes) -> Result | None:
        line = text if type(text) is str else as_text(text)
        end = _LINE_END.search(line)
        if end is not None:
            line = line[: end.start()]
        record: dict[str, Any] = {}
        ts = None
        time_fmt, time_key, label_ok = self.time, self.time_key, _LABEL.fullmatch
        for field in line.split("\t"):
            label, sep, value = field.partition(":")
            if not sep or label_ok(label) is None:
                break
            if not label:
                continue
            if time_fmt is not None and label == time_key and value:
                ts = time_fmt.parse(value)
                if ts is None:
                    self.time_failed(value)
                    return None
                if not self.time_keep:
                    continue
            record[label] = value
        if not record:
            return None
        if self.post:
            self.finish(record)
        return ts, record
