"""Index names and ``@timestamp`` values for the opensearch output.

Fluent Bit derives both from the record time (UTC): ``Logstash_Format`` names
the index ``<prefix><separator><strftime(Logstash_DateFormat)>`` and every
document gets ``Time_Key`` = ``strftime(Time_Key_Format)`` + ``.mmmZ`` (or
``.nnnnnnnnnZ`` with ``Time_Key_Nanos``).  Both strftime calls depend only on
the whole second, so they are cached per second: a chunk of log lines mostly
shares a handful of seconds, and this keeps the per-record cost to a dict
lookup.

``Index`` and ``Logstash_Prefix_Key`` may use Fluent Bit's record accessor
(``$key``, ``$key['sub']['sub2']``, ``$TAG``, ``$TAG[n]``) mixed with text,
through :mod:`shipper.accessor`.
"""

from __future__ import annotations

import time

from shipper.accessor import MISSING, compile_accessor, compile_template, to_text
from shipper.events import Record

#: Fluent Bit truncates a prefix taken from ``Logstash_Prefix_Key`` at 128 bytes.
MAX_PREFIX_KEY_LEN = 128

_CACHE_LIMIT = 4096


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
        self._prefix_key = compile_accessor(logstash_prefix_key) if logstash_prefix_key else None
        self._index = compile_template(index)
        self._current_time = current_time_index
        self._date = SecondCache(logstash_dateformat if logstash_format else index)
        self._uses_time = logstash_format or "%" in index
        self.constant: str | None = None
        if not logstash_format and self._index.static is not None and not self._uses_time:
            self.constant = index
        self.by_second = (
            self.constant is None
            and not current_time_index
            and (self._index.static is not None if not logstash_format else self._prefix_key is None)
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
                value = self._prefix_key.get(record)
                custom = "" if value is MISSING or value is None else to_text(value)
                if custom:
                    prefix = custom[:MAX_PREFIX_KEY_LEN]
            return prefix + self._separator + self._date(sec)
        if self._index.static is not None:
            return self._date(sec)
        name = self._index.render(record, tag)
        return time.strftime(name, time.gmtime(sec)) if "%" in name else name
