"""The compat harness itself: a comparison that cannot fail would make every case "identical"."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.compat.capture import parse_line
from tests.compat.cases import CaseSpec
from tests.compat.compare import (
    Window,
    compare_bulk,
    compare_dry_run,
    compare_records,
    compare_requests,
    same,
)
from tests.compat.golden import (
    GoldenCase,
    discover,
    input_tag,
    resolve_placeholders,
    shift_rfc3164_year,
)
from tests.compat.runner import HarnessError, exits_on_eof, prepare_config

WINDOW = Window.around(1_795_000_000_000_000_000, 1_795_000_010_000_000_000)
NOW = 1_795_000_005_000_000_000


def rec(record: dict, time: int | None = 1_709_640_000_000_000_000, tag: str = "t") -> dict:
    return {"tag": tag, "time": time, "record": record}


def test_out_file_lines_keep_every_nanosecond() -> None:
    line = 'kube.a.log: [1709640000.000000001, {"log":"x: [1, {}]","n":1.5}]'
    assert parse_line(line) == {"tag": "kube.a.log", "time": 1_709_640_000_000_000_001, "record": {"log": "x: [1, {}]", "n": 1.5}}
    with pytest.raises(ValueError):
        parse_line('{"log":"not out_file"}')


def test_values_compare_strictly_as_json() -> None:
    assert same({"a": [1, {"b": True}]}, {"a": [1, {"b": True}]})
    assert not same(1, 1.0) and not same(1, True) and not same(0.0, 0)
    assert same({"a": 1, "b": 2}, {"b": 2, "a": 1})


def test_record_differences_are_named() -> None:
    problems = compare_records([rec({"a": 1, "b": "x"})], [rec({"a": 1.0, "c": "y"})], WINDOW)
    text = "\n".join(problems)
    assert "missing keys ['b']" in text and "extra keys ['c']" in text and "'a': expected 1, got 1.0" in text


def test_key_order_is_compared_once_values_agree() -> None:
    expected = [rec({"x": {"p": 1, "q": [{"a": 1, "b": 2}]}, "kubernetes": {"pod_name": "a", "namespace_name": "b"}})]
    assert compare_records(expected, [rec({"x": {"p": 1, "q": [{"a": 1, "b": 2}]}, "kubernetes": {"pod_name": "a", "namespace_name": "b"}})], WINDOW) == []
    swapped_k = [rec({"x": {"p": 1, "q": [{"a": 1, "b": 2}]}, "kubernetes": {"namespace_name": "b", "pod_name": "a"}})]
    assert "record['kubernetes'] key order" in compare_records(expected, swapped_k, WINDOW)[0]
    swapped_deep = [rec({"x": {"p": 1, "q": [{"b": 2, "a": 1}]}, "kubernetes": {"pod_name": "a", "namespace_name": "b"}})]
    assert "record['x']['q'][0] key order" in compare_records(expected, swapped_deep, WINDOW)[0]
    moved = [rec({"kubernetes": {"pod_name": "a", "namespace_name": "b"}, "x": {"p": 1, "q": [{"a": 1, "b": 2}]}})]
    assert "record key order" in compare_records(expected, moved, WINDOW)[0]


def test_wall_clock_times_must_fall_inside_the_run() -> None:
    assert compare_records([rec({}, None)], [rec({}, NOW)], WINDOW) == []
    assert "time: expected wall clock" in compare_records([rec({}, None)], [rec({}, 1_709_640_000_000_000_000)], WINDOW)[0]
    assert "got wall clock" in compare_records([rec({})], [rec({}, NOW)], WINDOW)[0]


def test_order_matters_within_a_tag_only() -> None:
    a1, a2, b1 = rec({"n": 1}, tag="a"), rec({"n": 2}, tag="a"), rec({"n": 1}, tag="b")
    assert compare_records([a1, b1, a2], [b1, a1, a2], WINDOW) == []
    assert compare_records([a1, a2], [a2, a1], WINDOW) != []
    assert compare_records([a1], [a1, b1], WINDOW) == ['unexpected tag \'b\': 1 records, first {"n": 1}']


def test_bulk_bodies_compare_as_bytes_across_requests() -> None:
    expected = b'{"create":{}}\n{"a":1}\n{"create":{}}\n{"a":2}\n'
    assert compare_bulk(expected, [b'{"create":{}}\n{"a":1}\n', b'{"create":{}}\n{"a":2}\n']) == []
    assert compare_bulk(expected, [b'{"create":{}}\n{"a": 1}\n{"create":{}}\n{"a":2}\n'])[0].startswith("bulk line 2")


def _put(stream: str, *messages: str, ts: int | None = None) -> dict:
    events = [{"timestamp": ts, "message": m} for m in messages]
    return {"target": "Logs_20140328.PutLogEvents", "body": {"logGroupName": "g", "logStreamName": stream, "logEvents": events}}


def _create(stream: str | None) -> dict:
    if stream is None:
        return {"target": "Logs_20140328.CreateLogGroup", "body": {"logGroupName": "g"}}
    return {"target": "Logs_20140328.CreateLogStream", "body": {"logGroupName": "g", "logStreamName": stream}}


def test_aws_calls_compare_data_per_stream_not_attempts_or_batching() -> None:
    expected = [_create("s"), _create(None), _create(None), _create("s"), _put("s", "a"), _put("s", "b")]
    now_ms = NOW // 1_000_000
    assert compare_requests(expected, [_create(None), _create("s"), _put("s", "a", "b", ts=now_ms)], WINDOW) == []
    assert compare_requests(expected, [_create(None), _create("s"), _put("s", "b", "a", ts=now_ms)], WINDOW) != []
    assert compare_requests(expected, [_create("s"), _put("s", "a", "b", ts=now_ms)], WINDOW) != []


def test_placeholders_resolve_as_the_golden_readme_says() -> None:
    assert input_tag("/srv/t/input") == "srv.t.input"
    assert input_tag("/a//b:c\\d") == "a.b.c.d"
    records = [rec({"p": "${GOLDEN_INPUT}/a.log", "n": ["${GOLDEN_INPUT}"]}, tag="kube.${GOLDEN_INPUT_TAG}.a.log")]
    assert resolve_placeholders(records, "/srv/t/input") == [rec({"p": "/srv/t/input/a.log", "n": ["/srv/t/input"]}, tag="kube.srv.t.input.a.log")]


def test_rfc3164_times_move_to_the_current_year() -> None:
    mar_5_2026 = 1_772_705_737_000_000_000
    moved = shift_rfc3164_year([rec({}, mar_5_2026, tag="std.x.rfc3164.log"), rec({}, mar_5_2026, tag="std.x.cri.log")], 2027)
    assert moved[0]["time"] == mar_5_2026 + 365 * 86_400 * 10**9 and moved[1]["time"] == mar_5_2026


def _case(number: int) -> GoldenCase:
    found = [c for c in discover() if c.number == number]
    if not found:
        pytest.skip("golden corpus not available (set SHIPPER_GOLDEN_DIR)")
    return found[0]


def test_placeholder_output_is_swapped_and_real_outputs_keep_theirs(tmp_path: Path) -> None:
    tail_case = prepare_config(CaseSpec("01", _case(1)), tmp_path)
    assert "stdout" not in tail_case and tail_case.count("[OUTPUT]") == 1 and f"Path   {tmp_path}" in tail_case
    aws_case = prepare_config(CaseSpec("45", _case(45)), tmp_path)
    assert "kinesis_firehose" in aws_case and aws_case.count("[OUTPUT]") == 2
    assert not re.search(r"(?m)^\s*tls", aws_case), "tls.* lines are dropped: shipper talks plain HTTP to moto"


def test_only_case_11_runs_without_exit_on_eof(tmp_path: Path) -> None:
    idle = [c.name for c in discover() if not exits_on_eof(prepare_config(CaseSpec(c.name, c), tmp_path))]
    if not idle:
        pytest.skip("golden corpus not available (set SHIPPER_GOLDEN_DIR)")
    assert idle == ["11-ml-pending-flush-timeout"]


def test_a_config_without_the_placeholder_is_a_harness_error(tmp_path: Path) -> None:
    case_dir = tmp_path / "99-x"
    case_dir.mkdir()
    (case_dir / "fluent-bit.conf").write_text("[INPUT]\n    Name dummy\n[OUTPUT]\n    Name null\n    Match *\n")
    with pytest.raises(HarnessError):
        prepare_config(CaseSpec("99-x", GoldenCase("99-x", case_dir)), tmp_path)


def test_dry_run_must_show_each_item_where_and_as_it_was_sent() -> None:
    bulk = b'{"create":{"_index":"i","_id":"X"}}\n{"a":1}\n'
    shown = [{"destination": {"index": "i", "operation": "create", "id": "X"}, "payload": '{"a":1}'}]
    assert compare_dry_run(bulk, None, None, shown) == []
    assert compare_dry_run(bulk, None, None, [{**shown[0], "payload": '{"a":2}'}]) != []
    cloudwatch = {"g": {"s": [{"timestamp": None, "message": "m"}]}}
    assert compare_dry_run(None, cloudwatch, None, [{"destination": {"log_group": "g", "log_stream": "s"}, "payload": "m"}]) == []
    assert compare_dry_run(None, cloudwatch, None, []) != []
    calls = [{"target": "Firehose_20150804.PutRecordBatch", "body": {"DeliveryStreamName": "d"}, "decoded_data": ["r\n"]}]
    assert compare_dry_run(None, None, calls, [{"destination": {"delivery_stream": "d"}, "payload": "r"}]) != []
