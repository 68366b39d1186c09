"""Cutting CloudWatch messages to the 1 MiB event limit: JSON stays valid JSON, cut inside its longest strings."""

from __future__ import annotations

import re

import orjson
from hypothesis import given, settings, strategies as st

from shipper import jsonfmt
from shipper.outputs.cloudwatch_logs.request import EVENT_OVERHEAD, MAX_EVENT_BYTES
from shipper.outputs.cloudwatch_logs.truncation import JSON, JSON_AS_TEXT, TEXT, truncate_message

MARKER = re.compile(r"\u2026\[truncated (\d+) bytes\]$")


def test_the_limit_is_one_mebibyte_including_the_event_overhead() -> None:
    assert MAX_EVENT_BYTES + EVENT_OVERHEAD == 1_048_576


def test_a_json_record_is_cut_inside_its_longest_string_and_stays_valid() -> None:
    message = jsonfmt.dumps_str({"level": "info", "log": "x" * 2_000_000, "kubernetes": {"pod": "web"}, "n": 1.5})
    cut, how = truncate_message(message, MAX_EVENT_BYTES)
    assert how == JSON and len(cut.encode()) <= MAX_EVENT_BYTES
    record = orjson.loads(cut)
    assert record["level"] == "info" and record["kubernetes"] == {"pod": "web"} and record["n"] == 1.5
    removed = int(MARKER.search(record["log"]).group(1))
    assert record["log"].startswith("xxx") and len(record["log"]) - len(MARKER.search(record["log"]).group()) + removed == 2_000_000
    assert cut.startswith('{"level":"info","log":"xxx') and cut.endswith('","kubernetes":{"pod":"web"},"n":1.5}')


def test_escapes_and_multibyte_characters_are_never_split() -> None:
    for unit in ('\\"', "\u00e9", "\U0001F600", "\\", "\n", "a\u2713"):
        value = unit * 700_000
        cut, how = truncate_message(jsonfmt.dumps_str({"log": value}), MAX_EVENT_BYTES)
        assert how == JSON, unit
        kept = orjson.loads(cut)["log"]
        prefix = MARKER.sub("", kept)
        assert value.startswith(prefix) and len(prefix) % len(unit) == 0, unit


def test_several_long_strings_are_cut_when_one_is_not_enough() -> None:
    message = orjson.dumps({"a": "a" * 600_000, "b": "b" * 600_000, "c": "short"}).decode()
    cut, how = truncate_message(message, 500_000)
    record = orjson.loads(cut)
    assert how == JSON and len(cut.encode()) <= 500_000 and record["c"] == "short"
    assert MARKER.search(record["a"]) and MARKER.search(record["b"])


def test_plain_text_and_json_without_room_are_cut_at_a_character_boundary() -> None:
    assert truncate_message("[2024] " + "\u00e9" * 10, 10) == ("[2024] \u00e9", TEXT)  # starts like JSON, is not
    numbers = orjson.dumps(list(range(200_000))).decode()
    cut, how = truncate_message(numbers, 1_000)
    assert how == JSON_AS_TEXT and len(cut) == 1_000


@settings(max_examples=80, deadline=None)
@given(
    st.dictionaries(
        st.text(max_size=5),
        st.one_of(st.text(max_size=400), st.integers(), st.lists(st.text(max_size=200), max_size=4)),
        max_size=6,
    ),
    st.integers(60, 2_000),
)
def test_any_json_fits_and_stays_json_or_is_cut_as_text(record: dict, limit: int) -> None:
    message = jsonfmt.dumps_str(record)
    if len(message.encode()) <= limit:
        return
    cut, how = truncate_message(message, limit)
    assert len(cut.encode()) <= limit
    if how == JSON:
        orjson.loads(cut)
    else:
        assert how == JSON_AS_TEXT and message.startswith(cut)
