"""The tap hub: which records reach which tap, sampling by rate, the limit, and a full queue."""

from __future__ import annotations

import orjson

from shipper.engine.router import matcher
from shipper.monitoring.tap import QUEUE_LIMIT, Tap, TapHub


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def lines(tap: Tap) -> list[dict]:
    out = []
    while not tap.queue.empty():
        out.append(orjson.loads(tap.queue.get_nowait()))
    return out


def events(n: int, **record: object) -> list[tuple[int, dict]]:
    return [(1_700_000_000_000_000_000 + i, {"n": i, **record}) for i in range(n)]


def test_only_the_named_instance_and_matching_tags_reach_a_tap() -> None:
    hub = TapHub()
    tap = Tap("grep.0", matcher("app.*", None))
    hub.open(tap)
    hub.ingested("tail.0", "app.a", events(2))
    hub.filtered("grep.0", "other.b", None, events(2), [])
    hub.filtered("grep.0", "app.a", None, events(1), [("app.retagged", events(1, re=True))])
    hub.routed("grep.0", "app.c", events(1))
    got = lines(tap)
    assert [(g["kind"], g["tag"]) for g in got] == [("filter", "app.a"), ("filter", "app.retagged"), ("output", "app.c")]
    assert got[0] == {"kind": "filter", "name": "grep.0", "tag": "app.a",
                      "time": "2023-11-14T22:13:20.000000000Z", "record": {"n": 0}}


def test_a_record_is_shown_as_it_was_when_it_passed() -> None:
    hub = TapHub()
    tap = Tap("tail.0", matcher("*", None))
    hub.open(tap)
    chunk = events(1)
    hub.ingested("tail.0", "t", chunk)
    chunk[0][1]["added_later"] = 1  # the next filter changes the record in place
    assert lines(tap)[0]["record"] == {"n": 0}


def test_rate_samples_with_a_one_second_burst() -> None:
    clock = Clock()
    tap = Tap("x", matcher("*", None), rate=2, clock=clock)
    tap.offer("input", "t", events(10))
    assert len(lines(tap)) == 2 and tap.skipped == 8
    clock.now += 0.5
    tap.offer("input", "t", events(10))
    assert len(lines(tap)) == 1 and tap.skipped == 17
    clock.now += 10  # an idle spell does not bank more than one second's worth
    tap.offer("input", "t", events(10))
    assert len(lines(tap)) == 2


def test_limit_stops_the_tap() -> None:
    tap = Tap("x", matcher("*", None), limit=3)
    tap.offer("input", "t", events(2))
    assert not tap.full
    tap.offer("input", "t", events(5))
    assert tap.full and len(lines(tap)) == 3


def test_a_slow_client_loses_samples_not_the_pipeline() -> None:
    tap = Tap("x", matcher("*", None))
    tap.offer("input", "t", events(QUEUE_LIMIT + 5))
    assert tap.queue.qsize() == QUEUE_LIMIT and tap.skipped == 5


def test_closed_taps_see_nothing_and_the_hub_forgets_them() -> None:
    hub = TapHub()
    tap = Tap("tail.0", matcher("*", None))
    hub.open(tap)
    hub.close(tap)
    hub.ingested("tail.0", "t", events(1))
    assert tap.queue.empty() and not hub._taps
