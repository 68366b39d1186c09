"""``Merge_Log``: lift the structured content of ``log`` into the record.

Fluent Bit's rules (golden cases 32, 33, 35):
- a ``log`` string holding one JSON object (surrounding blanks allowed) is
  merged; arrays, strings, invalid JSON and escaped JSON (``{\\"a\\":1}``)
  are left alone, and so is JSON nested deeper than the outputs can encode
  (:data:`shipper.jsonfmt.MAX_PARSED_DEPTH`, counted); ``{}`` merges nothing but still counts as merged;
- a parser (``Merge_Parser``, or one a pod annotation names) replaces JSON
  decoding; if it does not match, nothing is merged (no JSON fallback), and
  if it matches without a time the record's time becomes *now*;
- merged keys replace clashing keys and land at the end (as Fluent Bit's
  duplicate keys do once serialised); with ``Merge_Log_Key`` they go under
  that key instead, which is only added when there is something in it;
- ``Keep_Log Off`` removes ``log`` after a successful merge;
- ``Merge_Log_Trim`` strips trailing ``\\n`` and escaped ``\\n``/``\\r`` from
  merged string values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from shipper.events import now_ns
from shipper.jsonfmt import too_deep

_loads = orjson.loads
_JSONError = orjson.JSONDecodeError


def trim_value(value: str) -> str:
    """Fluent Bit's value_trim_size: drop trailing newlines and escaped ``\\n``/``\\r``."""
    i = len(value) - 1
    while i > 0:
        char = value[i]
        if char == "\n":
            i -= 1
        elif value[i - 1] == "\\" and char in "nr":
            i -= 2
        else:
            break
    return value[: i + 1] if i >= 0 else ""


@dataclass
class MergeStats:
    """Per-chunk counts, added to the metrics once per chunk."""

    merged: int = 0
    not_object: int = 0
    parser_miss: int = 0
    excluded: int = 0
    #: JSON nested deeper than the outputs can encode, left a string.
    too_deep: int = 0


@dataclass
class Merger:
    """The Merge_Log settings of one filter instance."""

    key: str | None = None
    keep_log: bool = True
    trim: bool = True

    def merge(self, record: dict[str, Any], log: Any, parser: Any, ts: int, stats: MergeStats) -> int:
        """Merge ``log`` (the record's ``log`` value) into ``record``; returns the record's time."""
        if log.__class__ is str:
            if parser is None:
                # cheap refusal first: most plain-text lines never reach the JSON decoder
                if log[:1] != "{" and log.lstrip()[:1] != "{":
                    stats.not_object += 1
                    return ts
                try:
                    entries = _loads(log)
                except _JSONError:
                    stats.not_object += 1
                    return ts
                if entries.__class__ is not dict:
                    stats.not_object += 1
                    return ts
                if too_deep(log, entries):
                    stats.too_deep += 1
                    return ts
            else:
                parsed = parser.parse(log)
                if parsed is None:
                    stats.parser_miss += 1
                    return ts
                parsed_ts, entries = parsed
                ts = parsed_ts if parsed_ts is not None else now_ns()
            check_trim = self.trim and ("\\" in log or "\n" in log)
        elif isinstance(log, dict):
            entries = log
            check_trim = self.trim
        else:
            return ts
        stats.merged += 1
        if not self.keep_log:
            del record["log"]
        if check_trim:
            entries = {k: trim_value(v) if v.__class__ is str else v for k, v in entries.items()}
        if self.key is not None:
            if entries:
                record.pop(self.key, None)
                record[self.key] = entries
            return ts
        if not record.keys().isdisjoint(entries):
            for k in entries:  # clashing keys move to the end, as Fluent Bit's serialised duplicates do
                record.pop(k, None)
        record.update(entries)
        return ts
