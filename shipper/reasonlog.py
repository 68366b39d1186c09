"""Rate-limited reporting of rejection reasons.

A destination that rejects records usually rejects many for the same
reason (a mapping conflict, an expired event, a missing template value).
Outputs report each distinct reason at most once per interval, with how
many records it hit since the last report, so the log names every problem
without a line per record.
"""

from __future__ import annotations

import logging
import time

#: seconds between two reports of the same reason.
REASON_LOG_INTERVAL = 60.0
#: distinct reasons remembered before the memory starts over.
_REASON_MEMORY = 1000


class ReasonLog:
    """Logs each distinct reason at most once per interval, with a count."""

    def __init__(self, log: logging.Logger, interval: float = REASON_LOG_INTERVAL, level: int = logging.ERROR) -> None:
        self._log = log
        self._interval = interval
        self._level = level
        self._last: dict[tuple[str, ...], float] = {}
        self._suppressed: dict[tuple[str, ...], int] = {}

    def report(
        self,
        reason: tuple[str, ...],
        count: int,
        message: str,
        level: int | None = None,
        exc_info: BaseException | None = None,
    ) -> None:
        """Log ``message`` unless ``reason`` was reported within the interval; count it either way.

        ``exc_info`` adds a traceback to the reports that are logged (an unexpected error).
        """
        now = time.monotonic()
        if len(self._last) >= _REASON_MEMORY and reason not in self._last:
            self._last.clear()
            self._suppressed.clear()
        last = self._last.get(reason)
        if last is not None and now - last < self._interval:
            self._suppressed[reason] = self._suppressed.get(reason, 0) + count
            return
        self._last[reason] = now
        earlier = self._suppressed.pop(reason, 0)
        more = f" (and {earlier} more since the last report)" if earlier else ""
        self._log.log(self._level if level is None else level, "%s%s", message, more, exc_info=exc_info)
