"""modify: every rule and condition kind (Fluent Bit docs + golden 26/27), with key order."""

from __future__ import annotations

import pytest

from shipper.errors import ConfigError
from tests.factory import make_plugin

MEM = {"Mem.total": 1016024, "Mem.used": 716672, "Mem.free": 299352, "Swap.total": 2064380, "Swap.used": 1224, "Swap.free": 2063156}
SAMPLE = {"a": "1", "b": "2", "c": "3", "tmp_x": "x", "keep": "k", "tmp_y": "y", "secret_token": "s", "Secret_other": "S", "m": {"x": 1}}


async def apply(rules: list[tuple[str, str]], record: dict) -> list[tuple[str, object]]:
    modify = make_plugin("filter", "modify", rules)
    [(ts, out)] = await modify.process("t", [(7, dict(record))])
    assert ts == 7
    return list(out.items())


async def test_docs_example_add_and_rename() -> None:
    rules = [
        ("add", "Service1 SOMEVALUE"),
        ("add", "Service3 SOMEVALUE3"),
        ("add", "Mem.total2 TOTALMEM2"),
        ("rename", "Mem.free MEMFREE"),
        ("rename", "Mem.used MEMUSED"),
        ("rename", "Swap.total SWAPTOTAL"),
        ("add", "Mem.total TOTALMEM"),
    ]
    assert await apply(rules, MEM) == [
        ("Mem.total", 1016024),
        ("MEMUSED", 716672),
        ("MEMFREE", 299352),
        ("SWAPTOTAL", 2064380),
        ("Swap.used", 1224),
        ("Swap.free", 2063156),
        ("Service1", "SOMEVALUE"),
        ("Service3", "SOMEVALUE3"),
        ("Mem.total2", "TOTALMEM2"),
    ]


@pytest.mark.parametrize(
    ("rules", "keys", "changed"),
    [
        ([("set", "a A")], ["b", "c", "tmp_x", "keep", "tmp_y", "secret_token", "Secret_other", "m", "a"], {"a": "A"}),
        ([("set", 'n "two words"')], [*SAMPLE, "n"], {"n": "two words"}),
        ([("add", "b B"), ("add", "d D")], [*SAMPLE, "d"], {"d": "D"}),
        ([("remove", "c"), ("remove", "nope")], [k for k in SAMPLE if k != "c"], {}),
        ([("remove_wildcard", "tmp_")], [k for k in SAMPLE if not k.startswith("tmp_")], {}),
        ([("remove_wildcard", "tmp_*")], [k for k in SAMPLE if not k.startswith("tmp_")], {}),
        ([("remove_regex", "^secret_.*$")], [k for k in SAMPLE if k != "secret_token"], {}),
        ([("rename", "keep kept")], ["a", "b", "c", "tmp_x", "kept", "tmp_y", "secret_token", "Secret_other", "m"], {"kept": "k"}),
        ([("rename", "a b")], list(SAMPLE), {}),
        ([("hard_rename", "c b")], ["a", "b", "tmp_x", "keep", "tmp_y", "secret_token", "Secret_other", "m"], {"b": "3"}),
        ([("rename", "missing x")], list(SAMPLE), {}),
        ([("copy", "a a_copy")], ["a", "a_copy", *list(SAMPLE)[1:]], {"a_copy": "1"}),
        ([("copy", "b c")], list(SAMPLE), {}),
        ([("hard_copy", "m c")], ["a", "b", "tmp_x", "keep", "tmp_y", "secret_token", "Secret_other", "m", "c"], {"c": {"x": 1}}),
        ([("move_to_start", "tmp_")], ["tmp_x", "tmp_y", "a", "b", "c", "keep", "secret_token", "Secret_other", "m"], {}),
        ([("move_to_end", "a")], ["b", "c", "tmp_x", "keep", "tmp_y", "secret_token", "Secret_other", "m", "a"], {}),
    ],
)
async def test_rules(rules: list[tuple[str, str]], keys: list[str], changed: dict) -> None:
    out = dict(await apply(rules, SAMPLE))
    assert list(out) == keys
    for key, value in out.items():
        assert value == changed.get(key, SAMPLE.get(key))


async def test_hard_copy_is_a_deep_copy() -> None:
    modify = make_plugin("filter", "modify", [("hard_copy", "m c")])
    [(_, out)] = await modify.process("t", [(0, {"m": {"x": 1}})])
    out["c"]["x"] = 2
    assert out["m"] == {"x": 1}


COND_RECORDS = [
    {"id": 1, "level": "error", "status": 200, "lvl_a": "ok", "lvl_b": "ok", "kubernetes": {"namespace_name": "prod"}},
    {"id": 2, "level": "info", "status": "200", "lvl_a": "ok", "lvl_b": "bad"},
    {"id": 3, "msg": "no level key", "status": "404"},
    {"id": 4, "level": "ERROR", "kubernetes": {"namespace_name": "dev"}},
    {"id": 5, "level": "error ", "lvl_x": "ok"},
]


@pytest.mark.parametrize(
    ("conditions", "ids"),
    [
        (["Key_exists level"], [1, 2, 4, 5]),
        (["Key_does_not_exist level"], [3]),
        (["Key_exists $kubernetes['namespace_name']"], [1, 4]),
        (["A_key_matches ^lvl_"], [1, 2, 5]),
        (["No_key_matches ^lvl_"], [3, 4]),
        (["Key_value_equals level error"], [1]),
        (["Key_value_does_not_equal level error"], [2, 4, 5]),
        (["Key_value_matches status ^2\\d\\d$"], [2]),
        (["Key_value_does_not_match level ^err"], [2, 4]),
        (["Matching_keys_have_matching_values ^lvl_ ^ok$"], [1, 3, 4, 5]),
        (["Matching_keys_do_not_have_matching_values ^lvl_ ^ok$"], [2]),
        (["Key_value_equals $kubernetes['namespace_name'] prod"], [1]),
        (["Key_exists level", "Key_value_matches level (?i)^error$"], [1, 4]),
        (['Key_value_equals level "error "'], [5]),
    ],
)
async def test_conditions(conditions: list[str], ids: list[int]) -> None:
    modify = make_plugin("filter", "modify", [*(("condition", c) for c in conditions), ("add", "hit true")])
    out = await modify.process("t", [(0, dict(r)) for r in COND_RECORDS])
    assert [r["id"] for _, r in out if r.get("hit") == "true"] == ids
    assert len(out) == len(COND_RECORDS)


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ([("set", "n two words")], "quote a value"),
        ([("rename", "onlyone")], "takes 2 arguments"),
        ([("remove", "a b")], "takes 1 argument"),
        ([("condition", "Key_is_nice a")], "unknown condition"),
        ([("condition", "Key_value_equals a")], "takes 2 arguments"),
        ([("remove_regex", "(?<=a+)b")], "regex"),
    ],
)
def test_config_errors(rules: list[tuple[str, str]], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_plugin("filter", "modify", rules)
