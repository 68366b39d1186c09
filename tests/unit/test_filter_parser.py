"""parser filter: Key_Name, several Parsers, Reserve_Data, Preserve_Key, time (Fluent Bit docs + golden 23)."""

from __future__ import annotations

import pytest

from shipper.config.model import Section
from shipper.errors import ConfigError, Location
from shipper.options import Property
from shipper.parsers import build_parsers
from tests.factory import make_context, make_plugin

PARSERS = {
    "dummy_test": {"format": "regex", "regex": r"^(?<INT>[^ ]+) (?<FLOAT>[^ ]+) (?<BOOL>[^ ]+) (?<STRING>.+)$"},
    "access": {"format": "regex", "regex": r"^(?<method>GET|POST) (?<path>\S+) (?<status>\d{3})$", "types": "status:integer"},
    "json_time": {"format": "json", "time_key": "ts", "time_format": "%Y-%m-%dT%H:%M:%S.%L%z"},
}


def context():  # type: ignore[no-untyped-def]
    sections = [
        Section("parser", [Property("name", name, Location("p", 1))] + [Property(k, v, Location("p", 2)) for k, v in props.items()], Location("p", 1))
        for name, props in PARSERS.items()
    ]
    errors: list[ConfigError] = []
    ctx = make_context()
    ctx.parsers = build_parsers(sections, errors)
    assert not errors
    return ctx


async def run(props: list[tuple[str, str]], events: list) -> list:
    ctx = context()
    plugin = make_plugin("filter", "parser", props, context=ctx)
    out = await plugin.process("t", events)
    return [(ts, list(record.items())) for ts, record in out], ctx


async def test_docs_example() -> None:
    out, _ = await run([("key_name", "data"), ("parser", "dummy_test")], [(1, {"data": "100 0.5 true This is example"})])
    assert out == [(1, [("INT", "100"), ("FLOAT", "0.5"), ("BOOL", "true"), ("STRING", "This is example")])]


async def test_docs_example_reserve_data() -> None:
    record = {"key1": "value1", "key2": "value2", "data": "100 0.5 true This is example"}
    out, _ = await run([("key_name", "data"), ("parser", "dummy_test"), ("reserve_data", "on")], [(1, record)])
    assert out == [
        (1, [("INT", "100"), ("FLOAT", "0.5"), ("BOOL", "true"), ("STRING", "This is example"), ("key1", "value1"), ("key2", "value2")])
    ]


async def test_json_nested_deeper_than_outputs_can_encode_stays_a_string() -> None:
    deep = '{"ts":"x","a":' + '{"a":' * 999 + "1" + "}" * 1000
    events = [(1, {"log": deep}), (2, {"log": JSON_LINE})]
    out, ctx = await run([("key_name", "log"), ("parser", "json_time")], events)
    assert out[0] == (1, [("log", deep)])
    assert dict(out[1][1])["app"] == "inner"
    assert ctx.metrics.value("shipper_parser_too_deep_records_total", name="parser.0", parser="json_time") == 1


JSON_LINE = '{"ts":"2024-03-05T10:15:30.250Z","level":"info","app":"inner"}'
EVENTS = [
    (1, {"log": "GET /index.html 200", "stream": "stdout", "app": "web"}),
    (2, {"log": JSON_LINE, "stream": "stdout", "app": "outer"}),
    (3, {"log": "nothing matches", "app": "web"}),
    (4, {"stream": "stdout"}),
    (5, {"log": 12345}),
]
T = 1709633730250000000


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            [],
            [
                (1, [("method", "GET"), ("path", "/index.html"), ("status", 200)]),
                (T, [("level", "info"), ("app", "inner")]),
                (3, [("log", "nothing matches"), ("app", "web")]),
                (4, [("stream", "stdout")]),
                (5, [("log", 12345)]),
            ],
        ),
        (
            [("reserve_data", "on")],
            [
                (1, [("method", "GET"), ("path", "/index.html"), ("status", 200), ("stream", "stdout"), ("app", "web")]),
                (T, [("level", "info"), ("stream", "stdout"), ("app", "outer")]),
                (3, [("log", "nothing matches"), ("app", "web")]),
                (4, [("stream", "stdout")]),
                (5, [("log", 12345)]),
            ],
        ),
        (
            [("reserve_data", "on"), ("preserve_key", "on")],
            [
                (1, [("method", "GET"), ("path", "/index.html"), ("status", 200), ("log", "GET /index.html 200"), ("stream", "stdout"), ("app", "web")]),
                (T, [("level", "info"), ("log", JSON_LINE), ("stream", "stdout"), ("app", "outer")]),
                (3, [("log", "nothing matches"), ("app", "web")]),
                (4, [("stream", "stdout")]),
                (5, [("log", 12345)]),
            ],
        ),
        (
            [("preserve_key", "on")],
            [
                (1, [("method", "GET"), ("path", "/index.html"), ("status", 200), ("log", "GET /index.html 200")]),
                (T, [("level", "info"), ("app", "inner"), ("log", JSON_LINE)]),
                (3, [("log", "nothing matches"), ("app", "web")]),
                (4, [("stream", "stdout")]),
                (5, [("log", 12345)]),
            ],
        ),
    ],
)
async def test_parsers_in_order_reserve_and_preserve(extra: list[tuple[str, str]], expected: list) -> None:
    events = [(ts, dict(record)) for ts, record in EVENTS]
    out, _ = await run([("key_name", "log"), ("parser", "access"), ("parser", "json_time"), *extra], events)
    assert out == expected


async def test_time_errors_are_counted() -> None:
    out, ctx = await run([("key_name", "log"), ("parser", "json_time")], [(9, {"log": '{"ts":"yesterday"}'})])
    assert out == [(9, [("ts", "yesterday")])]
    assert ctx.metrics.value("shipper_parser_time_errors_total", name="parser.0", parser="json_time") == 1


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ([("key_name", "log"), ("parser", "acess")], "did you mean 'access'"),
        ([("key_name", "log")], "at least one Parser"),
    ],
)
def test_config_errors(props: list[tuple[str, str]], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_plugin("filter", "parser", props, context=context())
