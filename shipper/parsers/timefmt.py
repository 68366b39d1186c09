"""``Time_Format``: Fluent Bit's strptime, compiled once into a regex, with a per-second cache.

Fluent Bit parses record times with its own ``strptime`` plus two extensions:
``%L`` (1–9 fractional digits, as nanoseconds) and ``%z`` accepting ``Z``,
``+hhmm``, ``+hh:mm`` and ``+hh``.  We compile the format into one anchored
regex (``re.match``: text after the format is ignored, as Fluent Bit does even
with ``Time_Strict On``), and turn the matched date/second part into epoch
seconds once: the result is cached under the matched text minus its fraction,
because consecutive log lines almost always share the same second.

Semantics (golden cases 16, 21, 22):

- a format without ``%z`` is UTC shifted by ``Time_Offset`` (``+0200`` means the
  text is two hours east of UTC), or local time with ``Time_System_Timezone``;
- ``%z`` in the text wins over ``Time_Offset``;
- ``%s`` is epoch seconds (a following ``.%L`` adds the fraction);
- a format without a year (syslog ``%b %d %H:%M:%S``) takes the current UTC year;
- ``.%L`` requires a fraction: ``10:15:30Z`` does not match ``%S.%L%z``.
"""

from __future__ import annotations

import calendar
import re
import time

from shipper.errors import ConfigError

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_RE = (
    r"(?i:(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:tember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?))"
)
_DAY_RE = r"(?i:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*)"

#: directive -> (regex with at most one group, field name or None)
_DIRECTIVES: dict[str, tuple[str, str | None]] = {
    "Y": (r"([+-]?\d{1,4})", "year"),
    "y": (r"(\d{1,2})", "year2"),
    "C": (r"(\d{1,2})", "century"),
    "m": (r"\s*(\d{1,2})", "month"),
    "d": (r"\s*(\d{1,2})", "day"),
    "e": (r"\s*(\d{1,2})", "day"),
    "j": (r"(\d{1,3})", "yday"),
    "H": (r"\s*(\d{1,2})", "hour"),
    "k": (r"\s*(\d{1,2})", "hour"),
    "I": (r"\s*(\d{1,2})", "hour12"),
    "l": (r"\s*(\d{1,2})", "hour12"),
    "M": (r"(\d{1,2})", "minute"),
    "S": (r"(\d{1,2})", "second"),
    "L": (r"(\d{1,9})", "fraction"),
    "p": (r"(?i:(am|pm|a\.m\.|p\.m\.))", "ampm"),
    "b": (_MONTH_RE, "month_name"),
    "B": (_MONTH_RE, "month_name"),
    "h": (_MONTH_RE, "month_name"),
    "a": (_DAY_RE, None),
    "A": (_DAY_RE, None),
    "z": (r"([Zz]|[+-]\d{2}(?::?\d{2})?)", "zone"),
    "Z": (r"([A-Za-z]{1,5})", "zone_name"),
    "s": (r"([+-]?\d{1,18})", "epoch"),
    "n": (r"\s*", None),
    "t": (r"\s*", None),
    "%": (r"%", None),
}
#: shorthand directives, expanded before compiling.
_COMPOSITE = {"T": "%H:%M:%S", "D": "%m/%d/%y", "F": "%Y-%m-%d", "R": "%H:%M", "r": "%I:%M:%S %p"}
_POW10 = tuple(10 ** (9 - n) for n in range(10))
_CACHE_LIMIT = 4096
_UNCAPTURE = re.compile(r"\((?!\?)")


def parse_offset(text: str) -> int:
    """``Time_Offset`` (``+0200``, ``-07:00``, ``+02``) as seconds east of UTC."""
    match = re.fullmatch(r"\s*([+-])(\d{2}):?(\d{2})?\s*", text)
    if not match:
        raise ValueError(f"expected an offset such as +0200 or -07:00, got {text!r}")
    sign, hours, minutes = match.groups()
    seconds = int(hours) * 3600 + int(minutes or 0) * 60
    return -seconds if sign == "-" else seconds


def _expand(fmt: str) -> str:
    return re.sub(r"%([TDFRr])", lambda m: _COMPOSITE[m.group(1)], fmt)


class TimeFormat:
    """A compiled ``Time_Format``; :meth:`parse` returns epoch nanoseconds or None."""

    def __init__(self, fmt: str, offset: int = 0, system_timezone: bool = False) -> None:
        self.format = fmt
        self.offset = offset
        self.system_timezone = system_timezone
        pattern: list[str] = []
        fast: list[str] = []
        fields: list[str] = []
        expanded = _expand(fmt)
        i = 0
        while i < len(expanded):
            char = expanded[i]
            if char == "%":
                if i + 1 >= len(expanded):
                    raise ConfigError(f"Time_Format {fmt!r}: ends with a lone '%'")
                directive = expanded[i + 1]
                if directive not in _DIRECTIVES:
                    raise ConfigError(f"Time_Format {fmt!r}: unsupported directive %{directive}")
                regex, name = _DIRECTIVES[directive]
                if name is not None:
                    if name in fields:
                        raise ConfigError(f"Time_Format {fmt!r}: %{directive} given twice")
                    fields.append(name)
                pattern.append(regex)
                uncaptured = _UNCAPTURE.sub("(?:", regex)
                fast.append(f")({uncaptured})(" if name == "fraction" else uncaptured)
                i += 2
            else:
                literal = r"\s*" if char.isspace() else re.escape(char)
                pattern.append(literal)
                fast.append(literal)
                i += 1
        self._regex = re.compile("".join(pattern))
        self._fields = fields
        self._has_fraction = "fraction" in fields
        # Hot path: one match with only (before fraction)(fraction)(after) captured;
        # the date/second part is looked up in the cache, the full regex runs on a miss.
        self._fast = re.compile("(" + "".join(fast) + ")" if self._has_fraction else "".join(fast)).match
        self._cache: dict[str, int | None] = {}
        # The fraction's start is unambiguous only after a literal (".%L", ",%L").
        fraction_at = expanded.find("%L")
        self._split_safe = fraction_at > 0 and expanded[fraction_at - 1] not in "%0123456789" and (
            fraction_at < 2 or expanded[fraction_at - 2] != "%"
        )
        self._prefix_len = 0
        self._tail = ""
        self._prefix_cache: dict[str, int] = {}

    def parse(self, text: str) -> int | None:
        """Epoch nanoseconds of ``text``, or None when it does not fit the format."""
        size = self._prefix_len
        if size:
            # Fastest path: same date/second prefix and same text after the fraction
            # as a previous time, so only the fraction digits are new.
            rest = text[size:]
            tail = self._tail
            fraction = rest[: len(rest) - len(tail)]
            if 0 < len(fraction) <= 9 and rest.endswith(tail) and fraction.isdigit() and fraction.isascii():
                seconds = self._prefix_cache.get(text[:size])
                if seconds is not None:
                    return seconds * 1_000_000_000 + int(fraction) * _POW10[len(fraction)]
        match = self._fast(text)
        if match is None:
            return None
        if self._has_fraction:
            before, fraction, after = match.groups()
            key = before + after
        else:
            key = match.group()
        seconds = self._cache.get(key, False)
        if seconds is False:
            seconds = self._seconds(self._regex.match(text))  # type: ignore[arg-type]
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = seconds
        if seconds is None:
            return None
        if not self._has_fraction:
            return seconds * 1_000_000_000
        if self._split_safe:
            self._learn(before, text[len(before) + len(fraction) :], seconds)
        return seconds * 1_000_000_000 + int(fraction) * _POW10[len(fraction)]

    def _learn(self, before: str, tail: str, seconds: int) -> None:
        """Remember a prefix for the fastest path (reset when the prefix length or tail changes)."""
        if len(before) != self._prefix_len or tail != self._tail or len(self._prefix_cache) >= _CACHE_LIMIT:
            self._prefix_cache.clear()
            self._prefix_len, self._tail = len(before), tail
        self._prefix_cache[before] = seconds

    def _seconds(self, match: re.Match[str]) -> int | None:
        """Epoch seconds of the matched date/second part (None when out of range)."""
        values = dict(zip(self._fields, match.groups(), strict=True))
        if "epoch" in values:
            return int(values["epoch"])
        year = int(values["year"]) if "year" in values else time.gmtime().tm_year
        if "year2" in values:
            short = int(values["year2"])
            century = int(values["century"]) * 100 if "century" in values else (1900 if short >= 69 else 2000)
            year = century + short
        month = _MONTHS.index(values["month_name"][:3].lower()) + 1 if "month_name" in values else 1
        month = int(values.get("month", month))
        day = int(values.get("day", 1))
        if "hour12" in values:
            hour = int(values["hour12"]) % 12
            if values.get("ampm", "a")[0].lower() == "p":
                hour += 12
        else:
            hour = int(values.get("hour", 0))
        minute = int(values.get("minute", 0))
        second = int(values.get("second", 0))
        if not (1 <= month <= 12 and 1 <= day <= 31 and hour <= 24 and minute <= 59 and second <= 61):
            return None
        fields = (year, month, day, hour, minute, second)
        if "yday" in values:
            fields = (year, 1, 1, hour, minute, second)
        try:
            if "zone" in values:
                epoch = calendar.timegm(fields) - _zone_seconds(values["zone"])
            elif self.system_timezone:
                epoch = int(time.mktime((*fields, 0, 0, -1)))
            else:
                epoch = calendar.timegm(fields) - self.offset
        except (ValueError, OverflowError):  # year 0, or outside what the platform's time handles
            return None
        if "yday" in values:
            epoch += (int(values["yday"]) - 1) * 86400
        return epoch


def _zone_seconds(zone: str) -> int:
    if zone in ("Z", "z"):
        return 0
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    return sign * (int(digits[:2]) * 3600 + int(digits[2:4] or 0) * 60)
