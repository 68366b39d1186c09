"""Index names and ``@timestamp`` values for the opensearch output.

Fluent Bit derives both from the record time (UTC): ``Logstash_Format`` names
the index ``<prefix><separator><strftime(Logstash_DateFormat)>`` and every
document gets ``Time_Key`` = ``strftime(Time_Key_Format)`` + ``.mmmZ`` (or
``.nnnnnnnnnZ`` with ``Time_Key_Nanos``).  Both strftime calls depend only on
the whole second, so they are cached per second: a chunk of log lines mostly
shares a handful of seconds, and this keeps the per-record cost to a dict
lookup.

``Index`` and ``Logstash_Prefix_Key`` may use Fluent Bit's record accessor
(``$key``, ``$key['sub']['sub2']``, ``$TAG``, ``$TAG[n]``) mixed with text.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from shipper.events import Record

#: Fluent Bit truncates a prefix taken from ``Logstash_Prefix_Key`` at 128 bytes.
MAX_PREFIX_KEY_LEN = 128

_CACHE_LIMIT = 4096

# A variable runs until '.', ',', whitespace or another '$' (Fluent Bit's templates
# only allow '.' and ',' after a variable); subscripts follow in brackets.
_VARIABLE_RE = re.compile(r"\$([^\s.,\[\]$'\"]+)((?:\[(?:'[^']*'|\"[^\"]*\"|\d+)\])*)")
_SUBSCRIPT_RE = re.compile(r"\[(?:'([^']*)'|\"([^\"]*)\"|(\d+))\]")

Getter = Callable[[str, Record], Any]


def _record_getter(key: str, subscripts: list[str | int]) -> Getter:
    """A lookup of ``$key['a']['b']`` in a record; None when any step is missing."""

    def get(_tag: str, record: Record) -> Any:
        value: Any = record.get(key)
        for sub in subscripts:
            if isinstance(value, dict) and isinstance(sub, str):
                value = value.get(sub)
            elif isinstance(value, list) and isinstance(sub, int) and sub < len(value):
                value = value[sub]
            else:
                return None
        return value

    return get


def _tag_getter(part: int | None) -> Getter:
    """``$TAG`` (the whole tag) or ``$TAG[n]`` (the n-th dot-separated part)."""
    if part is None:
        return lambda tag, _record: tag

    def get(tag: str, _record: Record) -> Any:
        parts = tag.split(".")
        return parts[part] if part < len(parts) else None

    return get


def _getter(name: str, subscripts_text: str) -> Getter:
    subscripts: list[str | int] = []
    for single, double, number in _SUBSCRIPT_RE.findall(subscripts_text):
        subscripts.append(int(number) if number else (single or double))
    if name == "TAG" and (not subscripts or (len(subscripts) == 1 and isinstance(subscripts[0], int))):
        return _tag_getter(subscripts[0] if subscripts else None)  # type: ignore[arg-type]
    return _record_getter(name, subscripts)


def _text(value: Any) -> str:
    """How a looked-up value reads inside a template: strings as is, numbers printed."""
    if value is None or isinstance(value, (dict, list)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Template:
    """Text with record accessor variables, e.g. ``logs-$kubernetes['namespace_name']``."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._parts: list[str | Getter] = []
        pos = 0
        for match in _VARIABLE_RE.finditer(text):
            if match.start() > pos:
                self._parts.append(text[pos : match.start()])
            self._parts.append(_getter(match.group(1), match.group(2)))
            pos = match.end()
        if pos < len(text):
            self._parts.append(text[pos:])
        self.is_static = all(isinstance(p, str) for p in self._parts)

    def render(self, tag: str, record: Record) -> str:
        """The template with every variable replaced (a missing value renders empty)."""
        return "".join(p if isinstance(p, str) else _text(p(tag, record)) for p in self._parts)


class KeyAccessor:
    """A single record accessor such as ``$id`` or ``$meta['id']`` (a bare ``id`` works too)."""

    def __init__(self, text: str) -> None:
        pattern = text if text.startswith("$") else "$" + text
        match = _VARIABLE_RE.fullmatch(pattern)
        if match is None:
            raise ValueError(f"not a record accessor: {text!r} (expected $key or $key['sub'])")
        self.text = text
        self._get = _getter(match.group(1), match.group(2))

    def get(self, tag: str, record: Record) -> Any:
        return self._get(tag, record)


class SecondCache:
    """strftime results keyed by whole second (UTC), bounded in size."""

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self._cache: dict[int, str] = {}

    def __call__(self, sec: int) -> str:
        text = self._cache.get(sec)
        if text is None:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            text = self._cache[sec] = time.strftime(self.fmt, time.gmtime(sec))
        return text


class IndexNamer:
    """Chooses the index of each record, as Fluent Bit's opensearch output does.

    - ``Logstash_Format``: prefix (``Logstash_Prefix``, or the record's
      ``Logstash_Prefix_Key`` value when present) + separator + the record's
      date in ``Logstash_DateFormat``.
    - otherwise ``Index``: record accessor variables are filled in, then
      strftime conversions (``%Y.%m.%d``) are applied to the record time.

    ``Current_Time_Index`` uses the time of the flush instead of the record's.
    ``constant`` is the index when it never varies; ``by_second`` says that
    it depends on the record's second alone (:meth:`for_second`), so callers
    can name once per second instead of once per record.
    """

    def __init__(
        self,
        *,
        index: str,
        logstash_format: bool,
        logstash_prefix: str,
        logstash_prefix_separator: str,
        logstash_prefix_key: str | None,
        logstash_dateformat: str,
        current_time_index: bool,
    ) -> None:
        self._logstash = logstash_format
        self._prefix = logstash_prefix
        self._separator = logstash_prefix_separator
        self._prefix_key = KeyAccessor(logstash_prefix_key) if logstash_prefix_key else None
        self._index = Template(index)
        self._current_time = current_time_index
        self._date = SecondCache(logstash_dateformat if logstash_format else index)
        self._uses_time = logstash_format or "%" in index
        self.constant: str | None = None
        if not logstash_format and self._index.is_static and not self._uses_time:
            self.constant = index
        self.by_second = (
            self.constant is None
            and not current_time_index
            and (self._index.is_static if not logstash_format else self._prefix_key is None)
        )

    def for_second(self, sec: int) -> str:
        """The index of any record of second ``sec`` (only when ``by_second``)."""
        if self._logstash:
            return self._prefix + self._separator + self._date(sec)
        return self._date(sec)

    def name(self, tag: str, record: Record, ts_ns: int) -> str:
        """The index for one record whose time is ``ts_ns``."""
        if self.constant is not None:
            return self.constant
        sec = time.time_ns() // 1_000_000_000 if self._current_time else ts_ns // 1_000_000_000
        if self._logstash:
            prefix = self._prefix
            if self._prefix_key is not None:
                custom = _text(self._prefix_key.get(tag, record))
                if custom:
                    prefix = custom[:MAX_PREFIX_KEY_LEN]
            return prefix + self._separator + self._date(sec)
        if self._index.is_static:
            return self._date(sec)
        name = self._index.render(tag, record)
        return time.strftime(name, time.gmtime(sec)) if "%" in name else name
