"""PutLogEvents batching: limits, order, truncation, time window, and the output's config and dry-run."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings, strategies as st

from shipper.errors import ConfigError
from shipper.outputs.cloudwatch_logs.request import (
    EVENT_OVERHEAD,
    MAX_AGE_MS,
    MAX_BATCH_BYTES,
    MAX_BATCH_EVENTS,
    MAX_EVENT_BYTES,
    MAX_FUTURE_MS,
    MAX_SPAN_MS,
    encode_messages,
    plan,
)
from shipper.outputs.cloudwatch_logs.truncation import truncate_utf8
from tests.factory import make_plugin

NOW_MS = 1_800_000_000_000
MS = 1_000_000


def planned(events, log_key=None):
    return plan(events, encode_messages(events, log_key), NOW_MS)


def check_limits(batches) -> None:
    for batch in batches:
        assert 0 < len(batch.messages) <= MAX_BATCH_EVENTS
        assert sum(len(m.encode()) + EVENT_OVERHEAD for m in batch.messages) == batch.nbytes <= MAX_BATCH_BYTES
        assert batch.timestamps == sorted(batch.timestamps)
        assert batch.timestamps[-1] - batch.timestamps[0] < MAX_SPAN_MS
        assert all(len(m.encode()) <= MAX_EVENT_BYTES for m in batch.messages)


def test_messages_are_fluent_bit_json_and_empty_records_skipped() -> None:
    events = [(NOW_MS * MS, {"msg": "caf\u00e9", "f": 1e-7}), (NOW_MS * MS, {})]
    result = planned(events)
    assert [b.messages for b in result.batches] == [['{"msg":"caf\\u00e9","f":1e-07}']]
    assert result.refused == [(1, "empty")]


def test_log_key_values_raw_or_as_json_and_missing_keys_listed() -> None:
    events = [(NOW_MS * MS, r) for r in ({"log": "a\u00e9"}, {"x": 1}, {"log": None}, {"log": {"k": 1}}, {"log": 7})]
    assert encode_messages(events, "log") == ["a\u00e9", None, "", '{"k":1}', "7"]
    result = planned(events, "log")
    assert result.refused == [(1, "missing_log_key"), (2, "empty")]


def test_count_limit_splits_at_10000() -> None:
    events = [(NOW_MS * MS + i, {"i": 1}) for i in range(MAX_BATCH_EVENTS * 2 + 1)]
    assert [len(b.messages) for b in planned(events).batches] == [MAX_BATCH_EVENTS, MAX_BATCH_EVENTS, 1]


def test_byte_limit_counts_utf8_plus_26() -> None:
    message = "\u00e9" * 5_000  # 10,000 UTF-8 bytes, 5,000 characters
    events = [(NOW_MS * MS, {"log": message})] * 200
    result = planned(events, "log")
    per_request = MAX_BATCH_BYTES // (10_000 + EVENT_OVERHEAD)
    assert [len(b.messages) for b in result.batches][0] == per_request
    check_limits(result.batches)


def test_24_hour_rule_and_sorting() -> None:
    start = NOW_MS - 25 * 3600 * 1000
    events = [((start + h * 3600 * 1000) * MS, {"h": h}) for h in reversed(range(26))]
    result = planned(events)
    check_limits(result.batches)
    assert [len(b.messages) for b in result.batches] == [24, 2]
    assert [m for b in result.batches for m in b.messages] == [f'{{"h":{h}}}' for h in range(26)]
    # indexes point back at the input events
    assert result.batches[0].indexes[0] == 25


def test_time_window_excludes_and_counts() -> None:
    events = [
        ((NOW_MS - MAX_AGE_MS - 1) * MS, {"a": "old"}),
        ((NOW_MS + MAX_FUTURE_MS + 1) * MS, {"a": "new"}),
        (NOW_MS * MS, {"a": "ok"}),
    ]
    result = planned(events)
    assert result.refused == [(0, "too_old"), (1, "too_new")]
    assert result.batches[0].messages == ['{"a":"ok"}']


def test_a_retention_shorter_than_14_days_narrows_the_window() -> None:
    day_ms = 24 * 3600 * 1000
    events = [((NOW_MS - 4 * day_ms) * MS, {"a": "four days"}), ((NOW_MS - 2 * day_ms) * MS, {"a": "two days"})]
    messages = encode_messages(events, None)
    assert plan(events, list(messages), NOW_MS, retention_days=3).refused == [(0, "expired")]
    assert plan(events, list(messages), NOW_MS, retention_days=30).refused == []


def test_oversized_events_are_truncated_on_a_character_boundary() -> None:
    events = [(NOW_MS * MS, {"log": "x" + "\u2713" * 400_000})]  # 1.2 MB of UTF-8
    result = planned(events, "log")
    (message,) = result.batches[0].messages
    assert result.truncated == 1
    assert len(message.encode()) <= MAX_EVENT_BYTES and message.startswith("x\u2713")
    assert truncate_utf8("a\u00e9", 2) == "a"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(-30 * 3600 * 1000, 3 * 3600 * 1000), st.integers(0, 40_000)), max_size=120))
def test_any_input_gives_valid_requests_and_loses_nothing(spec: list[tuple[int, int]]) -> None:
    events = [((NOW_MS + offset) * MS, {"log": "y" * size}) for offset, size in spec]
    result = planned(events, "log")
    check_limits(result.batches)
    sent = sorted(i for b in result.batches for i in b.indexes)
    assert len(sent) + len(result.refused) == len(events)
    assert len(set(sent)) == len(sent)


def output(**options: str):
    base = {"region": "us-east-1", "log_group_name": "g"}
    return make_plugin("output", "cloudwatch_logs", {**base, **options})


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "log_stream_name or log_stream_prefix is required"),
        ({"log_stream_name": "s", "log_stream_prefix": "p-"}, "not both"),
        ({"log_stream_name": "s", "log_retention_days": "10"}, "log_retention_days 10"),
        ({"log_stream_name": "s", "log_format": "text"}, "json/emf"),
        ({"log_stream_name": "a:b"}, "':' or '\\*'"),
        ({"log_stream_name": "s", "endpoint": "ftp://x"}, "scheme"),
    ],
)
def test_config_errors(options: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        output(**options)


def test_dry_run_names_destinations_payloads_and_requests() -> None:
    now = time.time_ns()
    out = output(log_stream_prefix="fb-", log_group_template="/eks/$kubernetes['namespace_name']")
    events = [(now, {"kubernetes": {"namespace_name": "shop"}, "i": i}) for i in range(3)] + [(now, {"i": 9})]
    batch = out.dry_run("app.x", events)
    assert batch.requests == 2
    assert [item.destination for item in batch.items] == [{"log_group": "/eks/shop", "log_stream": "fb-app.x"}] * 3 + [
        {"log_group": "g", "log_stream": "fb-app.x"}
    ]
    assert batch.items[3].payload == '{"i":9}' and batch.items[0].time_ns == now
