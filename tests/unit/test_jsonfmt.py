"""JSON text must be byte-identical to Fluent Bit's encoder."""

import json

import orjson
import pytest
from hypothesis import given, strategies as st

from shipper.errors import ConfigError
from shipper.jsonfmt import FILTER_HEADROOM, MAX_PARSED_DEPTH, dumps, too_deep
from tests.factory import make_plugin


def test_non_ascii_is_escaped_like_fluent_bit():
    assert dumps({"m": "café ✓"}) == b'{"m":"caf\\u00e9 \\u2713"}'


def test_astral_characters_become_surrogate_pairs():
    assert dumps("😀") == b'"\\ud83d\\ude00"'


def test_doubles_use_c_formatting():
    assert dumps({"a": 1e-7, "b": 12.5, "c": 3.0, "d": 0.30000000000000004}) == b'{"a":1e-07,"b":12.5,"c":3.0,"d":0.3}'


def test_digits_inside_strings_are_untouched():
    assert dumps({"s": "1.5e3 and 2.0"}) == b'{"s":"1.5e3 and 2.0"}'


def test_unsigned_64_bit_and_larger_integers():
    assert dumps({"big": 18446744073709551615, "huge": 2**70}) == b'{"big":18446744073709551615,"huge":1180591620717411303424}'


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_output_is_ascii_json_that_reads_back(value):
    data = dumps(value)
    assert data.isascii()
    assert json.loads(data) == value


def nested_json(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def test_too_deep_is_judged_with_room_for_filters_to_nest_further():
    for depth, expected in ((MAX_PARSED_DEPTH, False), (MAX_PARSED_DEPTH + 1, True), (1000, True)):
        text = nested_json(depth)
        assert too_deep(text, orjson.loads(text)) is expected
        assert too_deep(text.encode(), orjson.loads(text)) is expected
    # what is allowed stays encodable after filters add their levels
    allowed = orjson.loads(nested_json(MAX_PARSED_DEPTH))
    for _ in range(FILTER_HEADROOM - 1):
        allowed = {"k": allowed}
    dumps(allowed)


def test_wide_values_with_many_brackets_and_huge_integers_are_not_too_deep():
    wide = json.dumps([{"n": i} for i in range(1000)] + [2**70])
    assert not too_deep(wide, json.loads(wide))


def test_dummy_refuses_a_record_outputs_could_not_encode():
    with pytest.raises(ConfigError, match="nests deeper than 200 levels"):
        make_plugin("input", "dummy", {"dummy": nested_json(300)})
