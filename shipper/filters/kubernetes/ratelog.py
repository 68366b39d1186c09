"""Warnings that repeat (an API outage, a bad annotation) are logged once per interval."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable


class RateLimitedLog:
    """Logs a message key at most once per ``interval`` seconds, saying how many were held back."""

    def __init__(self, log: logging.Logger, interval: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.log = log
        self.interval = interval
        self.clock = clock
        self._last: dict[str, tuple[float, int]] = {}

    def warning(self, key: str, message: str, *args: object) -> None:
        now = self.clock()
        last, held = self._last.get(key, (float("-inf"), 0))
        if now - last < self.interval:
            self._last[key] = (last, held + 1)
            return
        if held:
            message += f" ({held} similar messages suppressed)"
        if len(self._last) > 1024:
            self._last.clear()
        self._last[key] = (now, 0)
        self.log.warning(message, *args)
