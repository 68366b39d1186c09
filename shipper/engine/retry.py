"""Retry policy: Fluent Bit's full-jitter backoff (``Retry_Limit`` itself is parsed in :mod:`shipper.options`)."""

from __future__ import annotations

import random


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based).

    Full jitter as Fluent Bit's scheduler does it: a uniform draw between
    ``base`` and ``min(cap, base * 2**attempt)``.
    """
    ceiling = min(cap, base * (2 ** min(attempt, 62)))
    ceiling = max(ceiling, base)
    return (rng or random).uniform(base, ceiling)
