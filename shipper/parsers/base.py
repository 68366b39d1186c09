"""What every parser format shares: time extraction, ``Types``, decoders, counters.

A format subclass implements :meth:`Parser.parse`; the helpers here keep its
hot path short: ``self.time`` is None unless ``Time_Format`` is set and
``self.post`` is False unless ``Types`` or decoders are configured, so a plain
parser pays for neither.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from shipper.parsers.decoders import DecodeRule, apply_decoders
from shipper.parsers.timefmt import TimeFormat
from shipper.parsers.types import apply_types

Result = tuple[int | None, dict[str, Any]]
_WARN_EVERY_S = 60.0
log = logging.getLogger("shipper.parser")


class Parser:
    """A named ``[PARSER]``: ``parse(text) -> (time_ns | None, record) | None``.

    ``time_errors`` counts records whose time could not be parsed (they keep
    the caller's time), and ``too_deep`` texts left unparsed because they nest
    deeper than the outputs can encode; callers report both as metrics.
    """

    format = ""

    def __init__(
        self,
        name: str,
        time_key: str = "time",
        time_format: TimeFormat | None = None,
        time_keep: bool = False,
        types: dict[str, Callable[[str], Any]] | None = None,
        decoders: Iterable[DecodeRule] = (),
        skip_empty: bool = True,
    ) -> None:
        self.name = name
        self.time_key = time_key
        self.time = time_format
        self.time_keep = time_keep
        self.types = types or {}
        self.decoders: dict[str, list[DecodeRule]] = {}
        for rule in decoders:
            self.decoders.setdefault(rule.key, []).append(rule)
        self.skip_empty = skip_empty
        self.post = bool(self.types or self.decoders)
        self.time_errors = 0
        self.too_deep = 0
        self._warned_at = 0.0

    def parse(self, text: str | bytes) -> Result | None:
        """Parse one text: (time_ns or None, record), or None when it does not match."""
        raise NotImplementedError

    def parse_lines(self, lines: Iterable[str | bytes]) -> list[Result | None]:
        """:meth:`parse` over a batch (one attribute lookup for the whole batch)."""
        parse = self.parse
        return [parse(line) for line in lines]

    def finish(self, record: dict[str, Any]) -> dict[str, Any]:
        """Apply ``Types`` then decoders (only called when ``self.post``)."""
        if self.types:
            apply_types(record, self.types)
        if self.decoders:
            apply_decoders(record, self.decoders)
        return record

    def time_failed(self, value: Any) -> None:
        """Count a time that did not fit ``Time_Format``; warn at most once a minute."""
        self.time_errors += 1
        now = time.monotonic()
        if now - self._warned_at >= _WARN_EVERY_S:
            self._warned_at = now
            assert self.time is not None
            log.warning(
                "[parser:%s] time %r does not match Time_Format %r; the record keeps its ingestion time "
                "(%d so far)",
                self.name,
                value,
                self.time.format,
                self.time_errors,
            )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


def as_text(data: str | bytes) -> str:
    """Parsers work on str; bytes are decoded as UTF-8 (invalid bytes replaced, never dropped)."""
    return data if isinstance(data, str) else bytes(data).decode("utf-8", "replace")
