"""shipper's own log: ``Log_Level``, ``Log_File``, ``Log_Format text|json``, rate-limited repeats.

The text format is Fluent Bit's, so log searches written for it keep working::

    [2024/03/05 10:15:30] [ info] [input:tail:tail.0] inotify_fs_add(): name=/var/log/containers/a.log
    [2024/03/05 10:15:31] [ warn] [engine] failed to flush chunk ...

``Log_Format json`` writes one JSON object per line (``time``, ``level``,
``component``, ``message``, plus any ``extra=`` fields and ``exception``), for
log pipelines that parse shipper's own logs.

Every line goes through :func:`shipper.redact.redact` first: at ``debug``
and ``trace`` botocore logs whole signed requests.

A failing destination can produce the same warning hundreds of times a
second; :class:`RepeatFilter` lets the first one through, suppresses identical
ones for a window, and says how many it suppressed on the next one through
(or at shutdown, :meth:`LogSetup.close`).  Nothing in shipper logs per record.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson

from shipper.redact import redact

TRACE = 5
logging.addLevelName(TRACE, "TRACE")
OFF = logging.CRITICAL + 10

#: Fluent Bit's ``Log_Level`` words.
LEVELS = {
    "off": OFF,
    "error": logging.ERROR,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
    "trace": TRACE,
}

#: how Fluent Bit prints each level: five characters, right-aligned.
_LABELS = {
    logging.ERROR: "error",
    logging.WARNING: " warn",
    logging.INFO: " info",
    logging.DEBUG: "debug",
    TRACE: "trace",
}

_INSTANCE_RE = re.compile(r"^(?P<plugin>.+)\.\d+$")

#: LogRecord attributes that are not user ``extra=`` fields.
_STANDARD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


def parse_level(text: str) -> int:
    """A ``Log_Level`` word as a logging level; ValueError for anything else."""
    try:
        return LEVELS[text.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown log level {text!r}; expected one of {', '.join(LEVELS)}") from None


def level_label(levelno: int) -> str:
    """Fluent Bit's five-character level label (``error``, `` warn``, `` info``, ``debug``, ``trace``)."""
    for threshold in (logging.ERROR, logging.WARNING, logging.INFO, logging.DEBUG):
        if levelno >= threshold:
            return _LABELS[threshold]
    return _LABELS[TRACE]


def component(logger_name: str) -> str:
    """The bracketed component of a log line, from the logger name.

    ``shipper.input.tail.0`` -> ``input:tail:tail.0`` (Fluent Bit's ``[input:tail:tail.0]``);
    an aliased instance ``shipper.output.cw_app`` -> ``output:cw_app``;
    ``shipper.engine`` -> ``engine``; other libraries keep their logger name.
    """
    parts = logger_name.split(".", 2)
    if parts[0] != "shipper" or len(parts) == 1:
        return logger_name
    if parts[1] in ("input", "filter", "output") and len(parts) == 3:
        match = _INSTANCE_RE.match(parts[2])
        return f"{parts[1]}:{match['plugin']}:{parts[2]}" if match else f"{parts[1]}:{parts[2]}"
    return logger_name.split(".", 1)[1]


class FluentBitFormatter(logging.Formatter):
    """``[2024/03/05 10:15:30] [ info] [component] message`` (local time, as Fluent Bit)."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y/%m/%d %H:%M:%S", time.localtime(record.created))
        line = f"[{stamp}] [{level_label(record.levelno)}] [{component(record.name)}] {record.getMessage()}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return redact(line)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, RFC 3339), level, component, message, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace(
                "+00:00", "Z"
            ),
            "level": level_label(record.levelno).strip(),
            "component": component(record.name),
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return redact(orjson.dumps(entry, default=str).decode())


class RepeatFilter(logging.Filter):
    """Suppress a message identical to one let through less than ``window`` seconds ago.

    Identical means same logger, level and formatted text.  The next identical
    message after the window passes with `` (N identical messages suppressed
    in the last Ws)`` appended and a ``suppressed`` attribute (a JSON field).
    Only records at ``min_level`` or above are considered; memory is bounded
    by ``max_keys``.
    """

    def __init__(
        self,
        window: float = 60.0,
        min_level: int = logging.WARNING,
        max_keys: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.window = window
        self.min_level = min_level
        self.max_keys = max_keys
        self._clock = clock
        # key -> [time let through, suppressed since]
        self._seen: dict[tuple[str, int, str], list[float]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < self.min_level:
            return True
        message = record.getMessage()
        key = (record.name, record.levelno, message)
        now = self._clock()
        entry = self._seen.get(key)
        if entry is not None and now - entry[0] < self.window:
            entry[1] += 1
            return False
        suppressed = int(entry[1]) if entry is not None else 0
        self._seen[key] = [now, 0]
        if suppressed:
            record.msg = f"{message} ({suppressed} identical messages suppressed in the last {self.window:g}s)"
            record.args = None
            record.suppressed = suppressed
        if len(self._seen) > self.max_keys:
            self._evict(now)
        return True

    def _evict(self, now: float) -> None:
        expired = [k for k, (seen, count) in self._seen.items() if now - seen >= self.window and not count]
        for key in expired:
            del self._seen[key]
        while len(self._seen) > self.max_keys:  # still full: forget the oldest
            del self._seen[next(iter(self._seen))]

    def pending(self) -> list[tuple[str, int, str, int]]:
        """``(logger, level, message, suppressed)`` not yet reported, then forgets them."""
        rows = [(name, level, message, int(entry[1])) for (name, level, message), entry in self._seen.items() if entry[1]]
        self._seen.clear()
        return rows


@dataclass
class LogSetup:
    """The handler :func:`configure_logging` installed; ``close`` reports pending repeats and removes it."""

    handler: logging.Handler
    repeats: RepeatFilter

    def close(self) -> None:
        for name, level, message, count in self.repeats.pending():
            record = logging.getLogger(name).makeRecord(
                name, level, "", 0, "%s (%d identical messages suppressed)", (message, count), None
            )
            self.handler.handle(record)
        logging.getLogger().removeHandler(self.handler)
        self.handler.close()


_installed: LogSetup | None = None


def configure_logging(
    log_level: str = "info", log_file: str | None = None, log_format: str = "text", stream: TextIO | None = None
) -> LogSetup:
    """Install shipper's log handler on the root logger (replacing a previous one, e.g. on reload).

    ``shipper.*`` loggers log at ``log_level``; other libraries (aiohttp,
    botocore) only from ``warn`` up unless ``log_level`` is ``trace``.  A
    ``Log_File`` that cannot be opened falls back to stderr with an error.
    """
    global _installed
    level = parse_level(log_level)
    problem = None
    handler: logging.Handler
    if log_file:
        try:
            handler = logging.handlers.WatchedFileHandler(log_file, encoding="utf-8")
        except OSError as exc:
            problem = f"cannot open Log_File {log_file!r} ({exc.strerror}); logging to stderr"
            handler = logging.StreamHandler(stream or sys.stderr)
    else:
        handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format.lower() == "json" else FluentBitFormatter())
    repeats = RepeatFilter()
    handler.addFilter(repeats)
    root = logging.getLogger()
    if _installed is not None:
        _installed.close()
    root.addHandler(handler)
    root.setLevel(level if level <= TRACE else max(level, logging.WARNING))
    logging.getLogger("shipper").setLevel(level)
    _installed = LogSetup(handler, repeats)
    if problem:
        logging.getLogger("shipper").error(problem)
    return _installed


def apply_instance_levels(plugins: Iterable[Any]) -> None:
    """Honour each plugin instance's own ``log_level`` option on its logger."""
    for plugin in plugins:
        text = plugin.settings.get("log_level")
        if not text:
            continue
        try:
            plugin.log.setLevel(parse_level(text))
        except ValueError as exc:
            plugin.log.warning("%s; keeping the service log level", exc)
