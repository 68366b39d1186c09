"""Best-of-N CPU timing shared by the micro-benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def best_cpu_seconds(run: Callable[[], Any], rounds: int, prepare: Callable[[], Any] = lambda: None) -> float:
    """The least CPU time of ``rounds`` calls of ``run``.

    ``prepare`` runs untimed before each call (build inputs, collect
    garbage), and each result is freed outside the timed region, so neither
    is charged to ``run``.
    """
    samples = []
    for _ in range(rounds):
        prepare()
        start = time.process_time()
        result = run()
        samples.append(time.process_time() - start)
        del result
    return min(samples)
