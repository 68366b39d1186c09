"""Onigmo (Ruby syntax) -> Python re translation."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings, strategies as st

from shipper.parsers.onigmo import RegexError, compile_onigmo, split_delimited, translate


@pytest.mark.parametrize(
    ("pattern", "text", "groups"),
    [
        (r"^(?<user>\w+) (?<n>\d+)$", "bob 42", {"user": "bob", "n": "42"}),
        (r"(?'user'\w+)", "bob", {"user": "bob"}),
        (r"/^level=(?<level>info|warn)\s(?<msg>.+)$/i", "LEVEL=WARN x", {"level": "WARN", "msg": "x"}),
        (r"/^(?<all>a.b)$/m", "a\nb", {"all": "a\nb"}),
        (r"/^ (?<a> \d+ ) $/x", "12", {"a": "12"}),
        (r"(?<h>\h+)", "zz0fAz", {"h": "0fA"}),
        (r"(?<h>[\h-]+)", "zz0f-A", {"h": "0f-A"}),
        (r"(?<w>[[:alpha:]]+)(?<d>[[:digit:]]+)", "--abc123", {"w": "abc", "d": "123"}),
        (r"(?<a>\w)\k<a>", "xyzz", {"a": "z"}),
        (r"(?<=id=)(?<id>\d+)", "id=7", {"id": "7"}),
        (r"(?<v>\d+)(?!px)", "12em", {"v": "12"}),
        (r"(?<k>error)(?=:)", "error: x", {"k": "error"}),
        (r"(?<e>(?i)error)", "ERROR", {"e": "ERROR"}),
        (r"a(?i)b(?<r>c)", "aBC", {"r": "C"}),
        (r"(?<x>(?>a+))b", "aab", {"x": "aa"}),
        (r"(?<x>a++)b", "aab", {"x": "aa"}),
        (r"\A(?<x>a)\z", "a", {"x": "a"}),
        (r"(?<x>a)\Z", "a\n", {"x": "a"}),
        (r"(?<x>\x{41})", "A", {"x": "A"}),
        (r"(?#comment)(?<x>a)", "a", {"x": "a"}),
    ],
)
def test_translation_matches_like_onigmo(pattern: str, text: str, groups: dict[str, str]) -> None:
    match = compile_onigmo(pattern).search(text)
    assert match is not None
    assert match.groupdict() == groups


def test_caret_and_dollar_are_line_anchors_as_in_ruby() -> None:
    assert compile_onigmo(r"^b$").search("a\nb\nc") is not None


def test_backslash_d_is_ascii_only() -> None:
    assert compile_onigmo(r"^\d+$").search("١٢") is None


@pytest.mark.parametrize(
    "pattern",
    [
        r"(?<=a+)b",  # variable-width lookbehind
        r"\p{Alpha}",
        r"\Gabc",
        r"(?<a>x)(?<a>y)",
        r"[a-z&&[^aeiou]]",
        r"[[:nonsense:]]",
        r"(?<bad-name>x)",
        r"(unclosed",
        "trailing\\",
        r"(?~abc)",
    ],
)
def test_what_python_cannot_express_is_a_clear_error(pattern: str) -> None:
    with pytest.raises(RegexError) as info:
        compile_onigmo(pattern)
    assert str(info.value)


def test_split_delimited() -> None:
    assert split_delimited("/ab/ix") == ("ab", "ix")
    assert split_delimited("ab/") == ("ab/", "")
    assert translate("/a/m")[1] & re.DOTALL


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("()[]{}<>?:!=*+.^$\\|/#'-&_aAzZhHkpPgx019 imn")), max_size=30))
def test_translation_never_crashes_on_regex_like_input(pattern: str) -> None:
    try:
        compiled = compile_onigmo(pattern)
    except RegexError:
        return
    compiled.search("some text 123")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_translation_never_crashes_on_arbitrary_text(pattern: str) -> None:
    try:
        compile_onigmo(pattern)
    except RegexError:
        pass
