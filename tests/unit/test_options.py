"""Option types and section resolution: the errors `shipper check` reports."""

import pytest

from shipper import registry
from shipper.errors import ConfigError, Location
from shipper.options import Option, Property, parse_bool, parse_duration, parse_list, parse_size, resolve
from shipper.pipeline import SERVICE_OPTIONS

L = Location("f.conf", 3)


@pytest.mark.parametrize("text,expected", [("On", True), ("off", False), ("TRUE", True), ("no", False), ("1", True)])
def test_bool_words(text, expected):
    assert parse_bool(text) is expected


@pytest.mark.parametrize("text", ["maybe", "", "2"])
def test_bool_rejects_other_words(text):
    with pytest.raises(ValueError):
        parse_bool(text)


@pytest.mark.parametrize(
    "text,expected", [("32k", 32000), ("5MB", 5_000_000), ("1G", 1_000_000_000), ("66KB", 66000), ("100", 100)]
)
def test_sizes_are_1000_based(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text,expected", [("5", 5.0), ("5s", 5.0), ("500ms", 0.5), ("1m", 60.0), ("2h", 7200.0)])
def test_durations(text, expected):
    assert parse_duration(text) == expected


def test_lists_split_on_commas_and_spaces():
    assert parse_list("docker, cri") == ["docker", "cri"]
    assert parse_list("a b,c") == ["a", "b", "c"]


TABLE = (
    Option("name", required=True),
    Option("mem_buf_limit", "size"),
    Option("path", required=True),
    Option("record", repeatable=True),
)


def props(*pairs):
    return [Property(k, v, Location("f.conf", i + 10)) for i, (k, v) in enumerate(pairs)]


def test_resolve_types_and_defaults():
    s = resolve(TABLE, props(("Name", "tail"), ("Mem_Buf_Limit", "5MB"), ("PATH", "/x")), L, "[INPUT] tail")
    assert s["mem_buf_limit"] == 5_000_000
    assert s["Path"] == "/x"
    assert s["record"] == []
    assert s.is_set("path") and not s.is_set("record")
    assert s.where("path") == Location("f.conf", 12)


def test_unknown_option_gets_a_suggestion_and_its_line():
    errors: list[ConfigError] = []
    resolve(TABLE, props(("name", "tail"), ("path", "/x"), ("Mem_Buf_Limt", "5M")), L, "[INPUT] tail", errors=errors)
    assert len(errors) == 1
    assert "did you mean 'mem_buf_limit'" in str(errors[0])
    assert str(errors[0]).startswith("f.conf:12:")


def test_wrong_type_names_the_option_and_line():
    errors: list[ConfigError] = []
    resolve(TABLE, props(("name", "tail"), ("path", "/x"), ("Mem_Buf_Limit", "lots")), L, "[INPUT] tail", errors=errors)
    assert "Mem_Buf_Limit" in str(errors[0]) and "f.conf:12" in str(errors[0])


def test_repeated_key_only_where_declared():
    errors: list[ConfigError] = []
    s = resolve(
        TABLE,
        props(("name", "x"), ("path", "/a"), ("path", "/b"), ("record", "a 1"), ("record", "b 2")),
        L,
        "[FILTER] x",
        errors=errors,
    )
    assert len(errors) == 1 and "set twice" in str(errors[0]) and "f.conf:12" in str(errors[0])
    assert s["record"] == ["a 1", "b 2"]


def test_missing_required_option_points_at_the_section():
    errors: list[ConfigError] = []
    resolve(TABLE, props(("name", "tail")), L, "[INPUT] tail", errors=errors)
    assert str(errors[0]) == "f.conf:3: [INPUT] tail: option 'path' is required"


def test_without_an_error_list_the_first_error_raises():
    with pytest.raises(ConfigError):
        resolve(TABLE, props(("name", "tail")), L, "[INPUT] tail")


def test_a_bad_value_for_a_required_option_is_one_error_not_two():
    table = (Option("name", required=True), Option("format", required=True, choices=("json", "regex")))
    errors: list[ConfigError] = []
    resolve(table, props(("name", "p"), ("format", "jsn")), L, "[PARSER] p", errors=errors)
    assert len(errors) == 1 and "format" in str(errors[0]) and "required" not in str(errors[0])


def test_every_option_that_says_it_is_accepted_for_compatibility_is_marked_ignored():
    """So check warns about it and the plugin pages say so; the help text alone does neither."""
    tables = [("[SERVICE]", SERVICE_OPTIONS)] + [(f"{cls.kind} {cls.name}", cls.option_table()) for cls in registry.plugins()]
    unmarked = [
        f"{where}: {option.name}"
        for where, table in tables
        for option in table
        if option.help.startswith("accepted for compatibility") and not option.ignored
    ]
    assert unmarked == []
