"""Counters every part of shipper reports into, under Fluent Bit's metric names.

Fluent Bit dashboards read ``fluentbit_input_records_total{name="tail.0"}``
and friends, so plugins count under those names with a ``name`` label; our
own additions use the ``shipper_`` prefix.  Counting is a dict update per
chunk or per event of interest, never a log line per record.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterator

LabelSet = tuple[tuple[str, str], ...]

#: default histogram bucket bounds in seconds, for delivery latencies (read -> acknowledged).
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


class Histogram:
    """Cumulative-bucket histogram state: per-bound counts (the last is +Inf), sum and count."""

    __slots__ = ("bounds", "counts", "sum", "count")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float, times: int = 1) -> None:
        self.counts[bisect_left(self.bounds, value)] += times
        self.sum += value * times
        self.count += times


class Metrics:
    """A process-wide store of counters and gauges keyed by name and labels."""

    def __init__(self) -> None:
        self._counters: dict[str, dict[LabelSet, float]] = defaultdict(lambda: defaultdict(float))
        self._gauges: dict[str, dict[LabelSet, float]] = defaultdict(dict)
        self._histograms: dict[str, dict[LabelSet, Histogram]] = defaultdict(dict)

    @staticmethod
    def _labels(labels: dict[str, str]) -> LabelSet:
        return tuple(sorted(labels.items()))

    def inc(self, metric: str, amount: float = 1, /, **labels: str) -> None:
        """Add ``amount`` to a counter (labels may include ``name``, Fluent Bit's instance label)."""
        self._counters[metric][self._labels(labels)] += amount

    def set(self, metric: str, value: float, /, **labels: str) -> None:
        """Set a gauge."""
        self._gauges[metric][self._labels(labels)] = value

    def value(self, metric: str, /, **labels: str) -> float:
        """A counter's or gauge's value (0 when never touched); for tests and health checks."""
        key = self._labels(labels)
        if metric in self._gauges and key in self._gauges[metric]:
            return self._gauges[metric][key]
        return self._counters.get(metric, {}).get(key, 0.0)

    def total(self, metric: str, /) -> float:
        """A counter summed over all label sets."""
        return sum(self._counters.get(metric, {}).values())

    def counters(self) -> Iterator[tuple[str, dict[str, str], float]]:
        for name, series in self._counters.items():
            for labels, value in series.items():
                yield name, dict(labels), value

    def gauges(self) -> Iterator[tuple[str, dict[str, str], float]]:
        for name, series in self._gauges.items():
            for labels, value in series.items():
                yield name, dict(labels), value

    def observe(
        self, metric: str, value: float, /, times: int = 1, buckets: tuple[float, ...] = LATENCY_BUCKETS, **labels: str
    ) -> None:
        """Record ``value`` (``times`` times, e.g. once per record of a chunk) in a histogram."""
        series = self._histograms[metric]
        key = self._labels(labels)
        histogram = series.get(key)
        if histogram is None:
            histogram = series[key] = Histogram(buckets)
        histogram.observe(value, times)

    def histograms(self) -> Iterator[tuple[str, dict[str, str], Histogram]]:
        for name, series in self._histograms.items():
            for labels, histogram in series.items():
                yield name, dict(labels), histogram
