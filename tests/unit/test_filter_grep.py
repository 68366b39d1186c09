"""grep: Regex/Exclude, legacy order, Logical_Op, record accessors (Fluent Bit docs + golden 24/25)."""

from __future__ import annotations

import pytest

from shipper.errors import ConfigError
from tests.factory import make_plugin

RECORDS = [
    {"id": 1, "log": "aa first", "level": "error", "status": 500, "kubernetes": {"labels": {"app": "myapp"}}},
    {"id": 2, "log": "bb second", "level": "info", "status": "503", "kubernetes": {"labels": {"app": "other"}}},
    {"id": 3, "log": "aa bb third", "level": "warn"},
    {"id": 4, "log": ["aa"], "level": ["error"]},
    {"id": 5, "msg": "no log"},
]


async def kept(rules: list[tuple[str, str]]) -> list[int]:
    grep = make_plugin("filter", "grep", rules)
    events = [(i, dict(r)) for i, r in enumerate(RECORDS)]
    return [record["id"] for _, record in await grep.process("t", events)]


@pytest.mark.parametrize(
    ("rules", "ids"),
    [
        # docs: "Regex log aa" keeps records whose log matches
        ([("regex", "log aa")], [1, 3]),
        # docs: "Exclude log aa" drops them
        ([("exclude", "log aa")], [2, 4, 5]),
        # docs: nested keys through the record accessor
        ([("regex", "$kubernetes['labels']['app'] ^myapp$")], [1]),
        # regexes never match numbers, lists or missing keys
        ([("regex", "status ^5")], [2]),
        ([("exclude", "status ^5")], [1, 3, 4, 5]),
        # legacy: the first matching Regex keeps the record, later rules are not checked
        ([("regex", "level ^(error|warn)$"), ("exclude", "log aa")], [1, 3]),
        ([("exclude", "log aa"), ("regex", "level ^(error|warn)$")], []),
        ([("regex", "level ^error$"), ("regex", "log bb")], [1]),
        # Logical_Op
        ([("logical_op", "and"), ("regex", "log aa"), ("regex", "log bb")], [3]),
        ([("logical_op", "or"), ("regex", "log ^aa"), ("regex", "level ^info$")], [1, 2, 3]),
        ([("logical_op", "and"), ("exclude", "log aa"), ("exclude", "level warn")], [1, 2, 4, 5]),
        ([("logical_op", "OR"), ("exclude", "log aa"), ("exclude", "level info")], [4, 5]),
        # the regex is the rest of the line and may contain spaces
        ([("regex", "log aa bb")], [3]),
        # case-sensitive unless (?i)
        ([("regex", "log AA")], []),
        ([("regex", "log (?i)AA")], [1, 3]),
    ],
)
async def test_grep(rules: list[tuple[str, str]], ids: list[int]) -> None:
    assert await kept(rules) == ids


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ([("logical_op", "and"), ("regex", "a x"), ("exclude", "b y")], "cannot mix"),
        ([("regex", "onlykey")], "KEY REGEX"),
        ([("regex", "log (?<=a+)b")], "regex"),
        ([], "no Regex or Exclude"),
    ],
)
def test_grep_config_errors(rules: list[tuple[str, str]], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_plugin("filter", "grep", rules)
