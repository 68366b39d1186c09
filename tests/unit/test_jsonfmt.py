"""JSON text must be byte-identical to Fluent Bit's encoder."""

import json

from hypothesis import given
from hypothesis import strategies as st

from shipper.jsonfmt import dumps


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
