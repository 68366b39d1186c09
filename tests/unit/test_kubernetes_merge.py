"""Merge_Log edge cases (golden 32, 33, 35) without the filter around it."""

from __future__ import annotations

from typing import Any

import pytest

from shipper.filters.kubernetes.merge import Merger, MergeStats, trim_value

TS = 1_709_632_800_000_000_000


def merged(log: Any, merger: Merger | None = None, parser: Any = None) -> tuple[dict[str, Any], int, MergeStats]:
    record = {"time": "t", "stream": "stdout", "_p": "F", "log": log}
    stats = MergeStats()
    ts = (merger or Merger()).merge(record, log, parser, TS, stats)
    return record, ts, stats


@pytest.mark.parametrize(
    "log",
    ['["json","array",1]', '{"level":"warn", "msg": broken json}', '{\\"escaped\\":\\"json\\"}', '"just a string"',
     "not json at all", "", "{"],
)
def test_left_alone_and_counted(log: str) -> None:
    record, ts, stats = merged(log)
    assert record == {"time": "t", "stream": "stdout", "_p": "F", "log": log} and ts == TS
    assert stats.not_object == 1 and stats.merged == 0


def test_json_nested_deeper_than_outputs_can_encode_stays_a_string() -> None:
    log = '{"a":' * 1000 + "1" + "}" * 1000
    record, ts, stats = merged(log)
    assert record["log"] == log and list(record) == ["time", "stream", "_p", "log"] and ts == TS
    assert stats.too_deep == 1 and stats.merged == 0


def test_object_merged_at_the_end_keeping_log() -> None:
    record, _, stats = merged('  {"padded":"with spaces","n":1.5}   ')
    assert list(record) == ["time", "stream", "_p", "log", "padded", "n"] and stats.merged == 1


def test_clashing_keys_replaced_and_moved_last() -> None:
    record, _, _ = merged('{"log":"inner","stream":"inner stream","time":"2020"}')
    assert record == {"_p": "F", "log": "inner", "stream": "inner stream", "time": "2020"}
    assert list(record) == ["_p", "log", "stream", "time"]


def test_merge_log_key_and_keep_log_off() -> None:
    record, _, _ = merged('{"a":1}', Merger(key="app", keep_log=False))
    assert record == {"time": "t", "stream": "stdout", "_p": "F", "app": {"a": 1}}
    empty, _, stats = merged("{}", Merger(key="app", keep_log=False))
    assert "app" not in empty and "log" not in empty and stats.merged == 1


def test_map_log_is_merged() -> None:
    record, _, _ = merged({"a": 1})
    assert record["a"] == 1 and record["log"] == {"a": 1}


def test_trim() -> None:
    record, _, _ = merged('{"m":"line\\n","e":"esc\\\\n","x":"keep"}')
    assert record["m"] == "line" and record["e"] == "esc" and record["x"] == "keep"
    untrimmed, _, _ = merged('{"m":"line\\n"}', Merger(trim=False))
    assert untrimmed["m"] == "line\n"
    assert trim_value("\n\n") == "\n" and trim_value("a\r") == "a\r"


class FakeParser:
    def __init__(self, result: Any) -> None:
        self.result = result

    def parse(self, text: str) -> Any:
        return self.result


def test_parser_time_or_now_and_no_json_fallback() -> None:
    _, ts, _ = merged("x", parser=FakeParser((123, {"a": 1})))
    assert ts == 123
    record, ts, _ = merged("x", parser=FakeParser((None, {"a": 1})))
    assert ts > TS and record["a"] == 1
    record, ts, stats = merged('{"a":1}', parser=FakeParser(None))
    assert "a" not in record and ts == TS and stats.parser_miss == 1
