"""The multiline filter: stack traces across records, custom parsers on a key, partial_message mode."""

from __future__ import annotations

import pytest

from shipper.errors import ConfigError
from shipper.filters.multiline import MultilineFilter
from shipper.multiline import build_multiline_parsers
from tests.factory import make_context, make_plugin


def make_filter(props: dict[str, str]) -> MultilineFilter:
    context = make_context()
    context.multiline_parsers = build_multiline_parsers([], {}, [])
    plugin = make_plugin("filter", "multiline", {"match": "*", **props}, context=context)
    assert isinstance(plugin, MultilineFilter)
    return plugin


def cri_record(text: str, stream: str = "stdout") -> dict:
    return {"time": "t", "stream": stream, "_p": "F", "log": text}


async def test_java_trace_records_join_into_the_first_one() -> None:
    plugin = make_filter({"multiline.parser": "java", "multiline.key_content": "log"})
    texts = ["ERROR request failed", "java.lang.RuntimeException: no", "\tat a.B.c(B.java:1)", "Caused by: x.Y: z",
             "\t... 2 more", "INFO next"]
    events = [(i, cri_record(t)) for i, t in enumerate(texts)]
    out = await plugin.process("app", events)
    assert [(ts, r["log"]) for ts, r in out] == [
        (0, "ERROR request failed"),
        (1, "java.lang.RuntimeException: no\n\tat a.B.c(B.java:1)\nCaused by: x.Y: z\n\t... 2 more"),
        (5, "INFO next"),
    ]
    assert out[1][1]["stream"] == "stdout"


async def test_records_without_the_key_pass_through_and_close_the_group() -> None:
    plugin = make_filter({"multiline.parser": "python", "multiline.key_content": "msg"})
    events = [(1, {"msg": "Traceback (most recent call last):"}), (2, {"msg": '  File "a.py", line 1'}),
              (3, {"other": 1}), (4, {"msg": "plain"})]
    out = await plugin.process("t", events)
    assert [r for _, r in out] == [
        {"msg": 'Traceback (most recent call last):\n  File "a.py", line 1'}, {"other": 1}, {"msg": "plain"}]


async def test_no_group_outlives_its_chunk() -> None:
    plugin = make_filter({"multiline.parser": "java"})
    out = await plugin.process("t", [(1, {"log": "java.lang.Error: x"}), (2, {"log": "\tat a(b.java:1)"})])
    assert [r["log"] for _, r in out] == ["java.lang.Error: x\n\tat a(b.java:1)"]
    assert [r["log"] for _, r in await plugin.process("t", [(3, {"log": "\tat c(d.java:2)"})])] == ["\tat c(d.java:2)"]


async def test_cri_parser_on_a_key_reassembles_partials() -> None:
    plugin = make_filter({"multiline.parser": "cri", "multiline.key_content": "log"})
    events = [(1, {"log": "2024-03-05T10:15:30.000000000Z stdout P ab"}),
              (2, {"log": "2024-03-05T10:15:31.000000000Z stdout F cd"})]
    out = await plugin.process("t", events)
    assert [r["log"] for _, r in out] == ["abcd"]


async def test_partial_message_mode_joins_docker_split_messages() -> None:
    plugin = make_filter({"mode": "partial_message", "multiline.key_content": "log"})
    events = [
        (1, {"log": "a", "partial_message": "true", "partial_id": "x", "partial_ordinal": "1", "partial_last": "false",
             "source": "stdout"}),
        (2, {"log": "solo"}),
        (3, {"log": "b", "partial_message": "true", "partial_id": "x", "partial_ordinal": "2", "partial_last": "true"}),
    ]
    out = await plugin.process("t", events)
    assert out == [(2, {"log": "solo"}), (1, {"log": "ab", "source": "stdout"})]


def test_config_errors() -> None:
    with pytest.raises(ConfigError, match="'nope' is not defined"):
        make_filter({"multiline.parser": "nope"})
    with pytest.raises(ConfigError, match="needs multiline.parser"):
        make_filter({})
