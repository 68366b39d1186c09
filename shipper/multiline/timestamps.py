"""RFC 3339 timestamps of container runtimes, parsed with a per-second cache.

CRI and docker json-file lines carry ``2024-03-05T10:15:30.123456789Z``.
Consecutive lines share the date-time prefix, so the expensive part (the
calendar arithmetic) is cached on the first 19 characters and only the
fraction is converted per line.  The tail decoders inline the common
9-digit ``Z`` case and call :meth:`Rfc3339Cache.parse` for everything else.
"""

from __future__ import annotations

import calendar
import re

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|z|[+-]\d{2}:?\d{2})?$"
)
_CACHE_MAX = 4096


class Rfc3339Cache:
    """Maps ``YYYY-MM-DDTHH:MM:SS`` prefixes to nanoseconds since the epoch (as if UTC)."""

    __slots__ = ("seconds",)

    def __init__(self) -> None:
        self.seconds: dict[str, int] = {}

    def prefix_ns(self, prefix: str) -> int | None:
        """Nanoseconds of a 19-character date-time prefix, cached."""
        value = self.seconds.get(prefix)
        if value is None:
            match = _RFC3339.match(prefix)
            if match is None:
                return None
            y, mo, d, h, mi, s = (int(g) for g in match.groups()[:6])
            try:
                value = calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) * 1_000_000_000
            except (ValueError, OverflowError):
                return None
            if len(self.seconds) >= _CACHE_MAX:
                self.seconds.clear()
            self.seconds[prefix] = value
        return value

    def parse(self, text: str) -> int | None:
        """Any RFC 3339 time (fraction of any length, ``Z`` or ``±HH:MM``) to ns, or None."""
        match = _RFC3339.match(text)
        if match is None:
            return None
        base = self.prefix_ns(text[:19].replace("t", "T").replace(" ", "T"))
        if base is None:
            return None
        fraction, zone = match.group(7), match.group(8)
        nanos = int((fraction + "000000000")[:9]) if fraction else 0
        offset = 0
        if zone and zone not in ("Z", "z"):
            sign = -1 if zone[0] == "-" else 1
            digits = zone[1:].replace(":", "")
            offset = sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60) * 1_000_000_000
        return base + nanos - offset
