"""HC_Errors_Count / HC_Retry_Failure_Count over a sliding HC_Period, on a fake clock."""

from __future__ import annotations

from shipper.metrics import Metrics
from shipper.monitoring.health import HealthCheck


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float, health: HealthCheck) -> None:
        """Move time forward one second at a time, ticking as the server's task does."""
        for _ in range(int(seconds)):
            self.now += 1
            health.tick()


def test_flips_after_more_than_errors_count_in_period_and_recovers() -> None:
    metrics, clock = Metrics(), Clock()
    health = HealthCheck(metrics, errors_count=5, retry_failure_count=5, period=10, clock=clock)
    metrics.inc("fluentbit_output_errors_total", 3, name="a")
    clock.advance(2, health)
    metrics.inc("fluentbit_output_errors_total", 2, name="b")
    assert health.period_counts() == (5, 0)
    assert health.healthy()
    metrics.inc("fluentbit_output_errors_total", 1, name="a")
    assert not health.healthy()
    # Errors stop; once the period has passed since the first of them, the status recovers.
    clock.advance(11, health)
    assert health.period_counts() == (0, 0)
    assert health.healthy()


def test_errors_spread_beyond_the_period_stay_healthy() -> None:
    metrics, clock = Metrics(), Clock()
    health = HealthCheck(metrics, errors_count=2, retry_failure_count=2, period=5, clock=clock)
    for _ in range(10):  # one error every 3 s: never more than 2 inside a 5 s window
        metrics.inc("fluentbit_output_errors_total", name="out")
        assert health.healthy()
        clock.advance(3, health)


def test_failed_retries_have_their_own_limit() -> None:
    metrics, clock = Metrics(), Clock()
    health = HealthCheck(metrics, errors_count=100, retry_failure_count=1, period=60, clock=clock)
    metrics.inc("fluentbit_output_retries_failed_total", 1, name="out")
    assert health.healthy()
    metrics.inc("fluentbit_output_retries_failed_total", 1, name="out")
    assert not health.healthy()


def test_baselines_stay_bounded_by_the_period() -> None:
    metrics, clock = Metrics(), Clock()
    health = HealthCheck(metrics, period=5, clock=clock)
    clock.advance(100, health)
    assert len(health._baselines) <= 7
