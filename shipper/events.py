"""The event model (docs/architecture.md, "The event model"): an event is ``(timestamp_ns, record)``.

Records are plain dicts whose key order is the order outputs serialise, like
Fluent Bit's msgpack maps.  A chunk is what moves through the pipeline: one
tag, a list of events, and the input's acknowledgement token.
"""

from __future__ import annotations

import time
from typing import Any

Record = dict[str, Any]
Event = tuple[int, Record]


def now_ns() -> int:
    """Wall-clock time in nanoseconds, the time Fluent Bit gives unparsed records."""
    return time.time_ns()


def format_rfc3339_ns(ts_ns: int) -> str:
    """Render nanoseconds since the epoch as RFC 3339 UTC with 9 fractional digits."""
    secs, nanos = divmod(ts_ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{nanos:09d}Z"
