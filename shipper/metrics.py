"""Counters every part of shipper reports into, under Fluent Bit's metric names.

Fluent Bit dashboards read ``fluentbit_input_records_total{name="tail.0"}``
and friends, so plugins count under those names with a ``name`` label; our
own additions use the ``shipper_`` prefix.  Counting is a dict update per
chunk or per event of interest, never a log line per record.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

LabelSet = tuple[tuple[str, str], ...]


class Metrics:
    """A process-wide store of counters and gauges keyed by name and labels."""

    def __init__(self) -> None:
        self._counters: dict[str, dict[LabelSet, float]] = defaultdict(lambda: defaultdict(float))
        self._gauges: dict[str, dict[LabelSet, float]] = defaultdict(dict)

    @staticmethod
    def _labels(labels: dict[str, str]) -> LabelSet:
        return tuple(sorted(labels.items()))

    def inc(self, name: str, amount: float = 1, **labels: str) -> None:
        """Add ``amount`` to a counter."""
        self._counters[name][self._labels(labels)] += amount

    def set(self, name: str, value: float, **labels: str) -> None:
        """Set a gauge."""
        self._gauges[name][self._labels(labels)] = value

    def value(self, name: str, **labels: str) -> float:
        """A counter's or gauge's value (0 when never touched); for tests and health checks."""
        key = self._labels(labels)
        if name in self._gauges and key in self._gauges[name]:
            return self._gauges[name][key]
        return self._counters.get(name, {}).get(key, 0.0)

    def total(self, name: str) -> float:
        """A counter summed over all label sets."""
        return sum(self._counters.get(name, {}).values())

    def counters(self) -> Iterator[tuple[str, dict[str, str], float]]:
        for name, series in self._counters.items():
            for labels, value in series.items():
                yield name, dict(labels), value

    def gauges(self) -> Iterator[tuple[str, dict[str, str], float]]:
        for name, series in self._gauges.items():
            for labels, value in series.items():
                yield name, dict(labels), value
