"""Retry policy: Fluent Bit's ``Retry_Limit`` values and its full-jitter backoff."""

from __future__ import annotations

import random

from shipper.errors import ConfigError, Location

UNLIMITED = None


def parse_retry_limit(text: str, where: Location | None = None) -> int | None:
    """``Retry_Limit``: a count of retries, ``no_limits``/``false`` (None = unlimited), or ``no_retries`` (0)."""
    word = text.strip().lower()
    if word in ("no_limits", "false", "off"):
        return UNLIMITED
    if word == "no_retries":
        return 0
    try:
        value = int(word)
    except ValueError:
        raise ConfigError(
            f"Retry_Limit: expected a number, no_limits, False or no_retries, got {text!r}", where
        ) from None
    if value < 0:
        raise ConfigError(f"Retry_Limit: must not be negative, got {value}", where)
    return value


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based).

    Full jitter as Fluent Bit's scheduler does it: a uniform draw between
    ``base`` and ``min(cap, base * 2**attempt)``.
    """
    ceiling = min(cap, base * (2 ** min(attempt, 62)))
    ceiling = max(ceiling, base)
    return (rng or random).uniform(base, ceiling)
