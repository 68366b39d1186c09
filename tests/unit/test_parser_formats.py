"""json, regex, logfmt and ltsv parsers, Types, decoders and [PARSER] validation."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings, strategies as st

from shipper.config.model import Section
from shipper.errors import ConfigError, Location
from shipper.options import Property
from shipper.parsers import Parser, build_parsers
from shipper.parsers.decoders import unescape
from shipper.parsers.types import to_bool, to_float, to_hex, to_integer

BASE_NS = 1709633730 * 1_000_000_000


def section(**props: str | list[str]) -> Section:
    properties = []
    for key, value in props.items():
        for item in value if isinstance(value, list) else [value]:
            properties.append(Property(key, item, Location("parsers.conf", len(properties) + 1)))
    return Section("parser", properties, Location("parsers.conf", 1))


def parser(**props: str | list[str]) -> Parser:
    errors: list[ConfigError] = []
    built = build_parsers([section(name="p", **props)], errors)
    assert not errors, errors
    return built["p"]


# -- json ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a":1,"b":"x"}', {"a": 1, "b": "x"}),
        ('  {"a":1}  ', {"a": 1}),
        ('{"a":1} trailing garbage', {"a": 1}),
        ('{"dup":1,"dup":2}', {"dup": 2}),
        ('{"big":18446744073709551615}', {"big": 18446744073709551615}),
        ('{"huge":123456789012345678901234567890}', {"huge": 1.2345678901234568e29}),
        ('["a"]', None),
        ("not json", None),
        ('{"truncated": 1', None),
        ("42", None),
        ("", None),
    ],
)
def test_json(text: str, expected: dict | None) -> None:
    result = parser(format="json").parse(text)
    assert (result[1] if result else None) == expected


def test_json_accepts_bytes() -> None:
    assert parser(format="json").parse(b'{"a":"\xc3\xa9"}') == (None, {"a": "é"})


def test_json_time_key_removed_unless_time_keep() -> None:
    fmt = "%Y-%m-%dT%H:%M:%S.%L%z"
    assert parser(format="json", time_format=fmt).parse('{"time":"2024-03-05T10:15:30.5Z","m":1}') == (
        BASE_NS + 500_000_000,
        {"m": 1},
    )
    kept = parser(format="json", time_format=fmt, time_keep="on", time_key="ts")
    assert kept.parse('{"ts":"2024-03-05T10:15:30.5Z"}') == (BASE_NS + 500_000_000, {"ts": "2024-03-05T10:15:30.5Z"})


def test_json_failed_time_keeps_the_key_and_counts() -> None:
    p = parser(format="json", time_format="%Y-%m-%dT%H:%M:%S.%L%z")
    assert p.parse('{"time":"2024-03-05T10:15:30Z"}') == (None, {"time": "2024-03-05T10:15:30Z"})
    assert p.parse('{"time":1709633730}') == (None, {"time": 1709633730})
    assert p.parse('{"other":1}') == (None, {"other": 1})
    assert p.time_errors == 2


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.text(max_size=8),
        st.recursive(
            st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=10),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
            max_leaves=8,
        ),
        max_size=6,
    )
)
def test_json_round_trip(record: dict) -> None:
    assert parser(format="json").parse(orjson.dumps(record).decode()) == (None, record)


# -- regex ---------------------------------------------------------------------


def test_regex_named_groups_types_and_skip_empty() -> None:
    p = parser(
        format="regex",
        regex=r"^(?<a>[^,]*),(?<b>[^,]*),(?<n>\d*)(?: (?<opt>\w+))?$",
        types="n:integer",
    )
    assert p.parse("x,y,12") == (None, {"a": "x", "b": "y", "n": 12})
    assert p.parse(",,") == (None, {})
    assert p.parse("no match") is None
    keep_empty = parser(format="regex", regex=r"^(?<a>[^,]*),(?<b>[^,]*)$", skip_empty_values="off")
    assert keep_empty.parse(",") == (None, {"a": "", "b": ""})


def test_regex_failed_time_drops_the_key_even_with_time_keep() -> None:
    p = parser(
        format="regex",
        regex=r"^(?<time>\S+) (?<msg>.*)$",
        time_format="%Y-%m-%dT%H:%M:%S.%L%z",
        time_keep="on",
    )
    assert p.parse("2024-03-05T10:15:30.5Z hello") == (BASE_NS + 500_000_000, {"time": "2024-03-05T10:15:30.5Z", "msg": "hello"})
    assert p.parse("2024-03-05T10:15:30Z hello") == (None, {"msg": "hello"})
    assert p.time_errors == 1


def test_regex_search_is_unanchored_and_accepts_bytes() -> None:
    p = parser(format="regex", regex=r"user=(?<user>\w+)")
    assert p.parse(b"prefix user=alice suffix") == (None, {"user": "alice"})


# -- logfmt --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'level=info msg="hello world" flag empty= q="a \\"b\\"" eq="a=b"',
            {"level": "info", "msg": "hello world", "flag": True, "empty": True, "q": 'a "b"', "eq": "a=b"},
        ),
        ('k=""', {"k": ""}),
        ('key="unterminated value', {"key": "unterminated value"}),
        ("a=1=2", {"a": "1", "2": True}),
        ("   ", None),
        ('= = "', None),
    ],
)
def test_logfmt(text: str, expected: dict | None) -> None:
    result = parser(format="logfmt").parse(text)
    assert (result[1] if result else None) == expected


def test_logfmt_no_bare_keys_fails_the_whole_line() -> None:
    assert parser(format="logfmt", logfmt_no_bare_keys="on").parse("a=1 flag") is None


def test_logfmt_bad_time_fails_the_line() -> None:
    p = parser(format="logfmt", time_key="ts", time_format="%Y-%m-%dT%H:%M:%S%z")
    assert p.parse("ts=2024-03-05T10:15:30+0000 a=1") == (BASE_NS, {"a": "1"})
    assert p.parse("ts=yesterday a=1") is None


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, blacklist_characters='="\\'), min_size=1, max_size=8),
        st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=12),
        min_size=1,
        max_size=6,
    )
)
def test_logfmt_round_trip(record: dict[str, str]) -> None:
    def quote(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    line = " ".join(f"{k}={quote(v)}" for k, v in record.items())
    assert parser(format="logfmt").parse(line) == (None, record)


# -- ltsv ----------------------------------------------------------------------


def test_ltsv() -> None:
    p = parser(format="ltsv", types="status:integer size:integer", time_format="[%d/%b/%Y:%H:%M:%S %z]")
    line = "host:10.0.0.1\ttime:[05/Mar/2024:10:15:30 +0000]\tstatus:200\tsize:-\tnote:a:b:c\tnocolon\tlater:x"
    assert p.parse(line) == (BASE_NS, {"host": "10.0.0.1", "status": 200, "size": 0, "note": "a:b:c"})
    assert p.parse("time:[bad]\thost:x") is None
    assert p.parse("no fields here") is None


# -- Types and decoders --------------------------------------------------------


@pytest.mark.parametrize(
    ("cast", "text", "expected"),
    [
        (to_integer, "200", 200),
        (to_integer, "-17", -17),
        (to_integer, "12abc", 12),
        (to_integer, "abc", 0),
        (to_integer, "99999999999999999999", 2**63 - 1),
        (to_float, "0.75", 0.75),
        (to_float, "3", 3.0),
        (to_float, "1e-3", 0.001),
        (to_float, "abc", 0.0),
        (to_hex, "ff", 255),
        (to_hex, "0x1F", 31),
        (to_hex, "zz", 0),
        (to_bool, "TRUE", True),
        (to_bool, "false", False),
        (to_bool, "yes", "yes"),
    ],
)
def test_types(cast, text: str, expected) -> None:  # type: ignore[no-untyped-def]
    assert cast(text) == expected


def test_decode_field_as_replaces_and_decode_field_merges() -> None:
    line = '{"log":"{\\"a\\":1,\\"stream\\":\\"inner\\"}","stream":"outer"}'
    replace = parser(format="json", decode_field_as="json log")
    assert replace.parse(line) == (None, {"log": {"a": 1, "stream": "inner"}, "stream": "outer"})
    merge = parser(format="json", decode_field="json log")
    result = merge.parse(line)
    assert result is not None
    assert list(result[1].items()) == [("log", '{"a":1,"stream":"inner"}'), ("a", 1), ("stream", "inner")]
    assert merge.parse('{"log":"[1,2]"}') == (None, {"log": "[1,2]"})


def test_decoder_chain_with_do_next_and_try_next() -> None:
    p = parser(format="json", decode_field_as=["escaped_utf8 log do_next", "json log"])
    assert p.parse('{"log":"{\\\\\\"a\\\\\\":\\\\\\"b\\\\u00e9\\\\\\"}"}') == (None, {"log": {"a": "bé"}})
    try_next = parser(format="json", decode_field_as=["json log try_next", "escaped log"])
    assert try_next.parse('{"log":"a\\\\tb"}') == (None, {"log": "a\tb"})


def test_unescape() -> None:
    assert unescape(r"caf\u00e9 \t \"q\" \\", utf8=True) == 'café \t "q" \\'
    assert unescape(r"caf\u00e9", utf8=False) == r"caf\u00e9"
    assert unescape(r"\ud83d\ude00", utf8=True) == "😀"


# -- [PARSER] validation -------------------------------------------------------


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"format": "csv"}, "format"),
        ({"format": "regex"}, "needs a Regex"),
        ({"format": "regex", "regex": r"(?<=a+)b"}, "Regex"),
        ({"format": "json", "time_format": "%Q"}, "unsupported directive"),
        ({"format": "json", "time_format": "%s", "time_offset": "soon"}, "offset"),
        ({"format": "json", "types": "a:complex"}, "unknown type"),
        ({"format": "json", "decode_field": "yaml log"}, "unknown decoder"),
        ({"format": "json", "decode_field": "json log later"}, "unknown action"),
        ({"format": "json", "time_kep": "on"}, "did you mean"),
    ],
)
def test_parser_config_errors_name_the_parser(props: dict[str, str], message: str) -> None:
    errors: list[ConfigError] = []
    assert build_parsers([section(name="broken", **props)], errors) == {}
    assert errors
    assert "[PARSER] broken" in str(errors[0]) and message in str(errors[0])
    assert errors[0].location is not None


def test_first_definition_of_a_name_wins() -> None:
    errors: list[ConfigError] = []
    built = build_parsers([section(name="p", format="json"), section(name="p", format="logfmt")], errors)
    assert not errors and built["p"].format == "json"


def test_parse_lines_batch() -> None:
    assert parser(format="json").parse_lines(['{"a":1}', "x"]) == [(None, {"a": 1}), None]


def test_types_do_not_apply_to_json_as_in_fluent_bit() -> None:
    assert parser(format="json", types="n:integer").parse('{"n":"12"}') == (None, {"n": "12"})


FUZZ_PARSERS = [
    {"format": "json", "time_format": "%Y-%m-%dT%H:%M:%S.%L%z", "decode_field_as": "escaped_utf8 log do_next"},
    {"format": "regex", "regex": r"^(?<time>\S+) (?<n>\S+) (?<log>.*)$", "time_format": "%s.%L", "types": "n:integer"},
    {"format": "logfmt", "time_format": "%d/%b/%Y:%H:%M:%S %z", "types": "a:float b:hex c:bool"},
    {"format": "ltsv", "time_format": "%Y-%m-%d %H:%M:%S,%L", "decode_field": "json log"},
]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(range(len(FUZZ_PARSERS))), st.text(max_size=60) | st.binary(max_size=60))
def test_parsers_never_raise(index: int, text: str | bytes) -> None:
    result = parser(**FUZZ_PARSERS[index]).parse(text)
    assert result is None or isinstance(result[1], dict)
