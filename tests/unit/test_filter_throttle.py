"""throttle: average rate over a sliding window of intervals."""

from __future__ import annotations

import pytest

from shipper.errors import ConfigError, Location
from shipper.filters.throttle import ThrottleFilter
from shipper.options import Property, resolve
from tests.factory import make_context


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(clock: Clock, **props: str) -> ThrottleFilter:
    properties = [Property("name", "throttle", Location("<t>", 1))]
    properties += [Property(k, v, Location("<t>", 2)) for k, v in props.items()]
    settings = resolve(ThrottleFilter.option_table(), properties, Location("<t>"), "throttle", "throttle.0")
    return ThrottleFilter(settings, make_context(), clock=clock)


def batch(n: int) -> list:
    return [(i, {"i": i}) for i in range(n)]


async def test_window_allows_rate_times_window_then_drops() -> None:
    clock = Clock()
    throttle = make(clock, rate="2", window="3", interval="1s")
    assert len(await throttle.process("t", batch(4))) == 4
    assert len(await throttle.process("t", batch(4))) == 2  # 6 = 2 x 3 per window
    clock.now += 1
    assert await throttle.process("t", batch(1)) == []  # the window still holds 6
    clock.now += 2  # the pane with 6 records leaves the window
    kept = await throttle.process("t", batch(10))
    assert [ts for ts, _ in kept] == list(range(6))  # the first records of the chunk pass
    assert throttle.dropped == 2 + 1 + 4


async def test_a_long_pause_resets_the_window() -> None:
    clock = Clock()
    throttle = make(clock, rate="1", window="2", interval="2s")
    assert len(await throttle.process("t", batch(5))) == 2
    clock.now += 100
    assert len(await throttle.process("t", batch(5))) == 2


class Lines:
    """Stands in for the plugin's logger (the global logging setup belongs to other tests)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, message: str, *args: object) -> None:
        self.lines.append(message % args)


async def test_print_status_logs_once_per_interval() -> None:
    clock = Clock()
    throttle = make(clock, rate="1", window="1", print_status="on")
    throttle.log = Lines()  # type: ignore[assignment]
    await throttle.process("t", batch(3))
    clock.now += 1
    await throttle.process("t", batch(1))
    await throttle.process("t", batch(1))
    assert throttle.log.lines == ["window total 1 of 1 allowed (rate 1 x window 1), 2 dropped"]  # type: ignore[attr-defined]


def test_bad_settings() -> None:
    with pytest.raises(ConfigError):
        make(Clock(), window="0")
