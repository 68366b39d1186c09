"""``/api/v1/health``: unhealthy after too many output errors in a sliding period.

Fluent Bit's rule (``Health_Check``): over the last ``HC_Period`` seconds, the
sum over all outputs of chunk errors (``fluentbit_output_errors_total``) must
not exceed ``HC_Errors_Count`` and the sum of expired retries
(``fluentbit_output_retries_failed_total``) must not exceed
``HC_Retry_Failure_Count``; "exceed" is strict, as in Fluent Bit, so with the
default 5 the sixth error in a period flips the status.

The counters only grow, so the errors in the period are the current total
minus the total at the start of the period: :meth:`HealthCheck.tick` records a
baseline about once a second and keeps only what the period needs.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from shipper.metrics import Metrics

ERRORS = "fluentbit_output_errors_total"
RETRIES_FAILED = "fluentbit_output_retries_failed_total"


class HealthCheck:
    """Sliding-window health status over the output error counters."""

    def __init__(
        self,
        metrics: Metrics,
        errors_count: int = 5,
        retry_failure_count: int = 5,
        period: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.metrics = metrics
        self.errors_count = errors_count
        self.retry_failure_count = retry_failure_count
        self.period = period
        self._clock = clock
        # (time, errors total, failed retries total), oldest first.
        self._baselines: deque[tuple[float, float, float]] = deque()
        self.tick()

    def _totals(self) -> tuple[float, float]:
        return self.metrics.total(ERRORS), self.metrics.total(RETRIES_FAILED)

    def tick(self) -> None:
        """Record the current totals as a baseline; drop baselines older than the period needs."""
        now = self._clock()
        self._baselines.append((now, *self._totals()))
        self._trim(now)

    def _trim(self, now: float) -> None:
        # Keep the newest baseline taken at or before the start of the period: it is the
        # reference for "errors during the last period".
        start = now - self.period
        while len(self._baselines) > 1 and self._baselines[1][0] <= start:
            self._baselines.popleft()

    def period_counts(self) -> tuple[int, int]:
        """Output errors and failed retries during the current period."""
        self._trim(self._clock())
        _, errors_then, failed_then = self._baselines[0]
        errors_now, failed_now = self._totals()
        return int(errors_now - errors_then), int(failed_now - failed_then)

    def healthy(self) -> bool:
        errors, failed = self.period_counts()
        return errors <= self.errors_count and failed <= self.retry_failure_count
