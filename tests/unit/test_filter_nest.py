"""nest: nest and lift with Wildcard, prefixes and clashes (Fluent Bit docs + golden 29)."""

from __future__ import annotations

import pytest

from shipper.errors import ConfigError
from tests.factory import make_plugin

MEM = {"Mem.total": 1016024, "Mem.used": 716672, "Mem.free": 299352, "Swap.total": 2064380}


async def apply(props: list[tuple[str, str]], record: dict) -> dict:
    plugin = make_plugin("filter", "nest", props)
    [(_, out)] = await plugin.process("t", [(0, dict(record))])
    return out


@pytest.mark.parametrize(
    ("props", "record", "expected"),
    [
        # docs: nest Mem.* under Memstats
        (
            [("operation", "nest"), ("wildcard", "Mem.*"), ("nest_under", "Memstats")],
            MEM,
            {"Swap.total": 2064380, "Memstats": {"Mem.total": 1016024, "Mem.used": 716672, "Mem.free": 299352}},
        ),
        # docs: ... and strip the prefix
        (
            [("operation", "nest"), ("wildcard", "Mem.*"), ("nest_under", "Memstats"), ("remove_prefix", "Mem.")],
            MEM,
            {"Swap.total": 2064380, "Memstats": {"total": 1016024, "used": 716672, "free": 299352}},
        ),
        # several wildcards, exact and prefix, Add_prefix; an existing key of the target name is replaced
        (
            [("operation", "nest"), ("wildcard", "http_*"), ("wildcard", "method"), ("nest_under", "request"), ("add_prefix", "req.")],
            {"http_status": 200, "msg": "ok", "method": "GET", "http": "exact", "request": "old"},
            {"msg": "ok", "http": "exact", "request": {"req.http_status": 200, "req.method": "GET"}},
        ),
        # nothing to nest: unchanged
        ([("operation", "nest"), ("wildcard", "x*"), ("nest_under", "X")], {"a": 1}, {"a": 1}),
        # docs: lift a map back to the top level
        (
            [("operation", "lift"), ("nested_under", "Stats")],
            {"Stats": {"Mem.total": 1, "Mem.used": 2}, "other": 3},
            {"other": 3, "Mem.total": 1, "Mem.used": 2},
        ),
        # lift with Add_prefix: lifted keys win clashes and come last
        (
            [("operation", "lift"), ("nested_under", "kubernetes"), ("add_prefix", "k8s_")],
            {"log": "x", "kubernetes": {"pod_name": "web-1", "labels": {"app": "web"}}, "k8s_pod_name": "clash"},
            {"log": "x", "k8s_pod_name": "web-1", "k8s_labels": {"app": "web"}},
        ),
        # lift with Remove_prefix
        (
            [("operation", "lift"), ("nested_under", "meta"), ("remove_prefix", "m_")],
            {"meta": {"m_a": 1, "c": 2}, "a": "top"},
            {"a": 1, "c": 2},
        ),
        ([("operation", "lift"), ("nested_under", "meta")], {"meta": {}}, {}),
        ([("operation", "lift"), ("nested_under", "meta")], {"meta": "string"}, {"meta": "string"}),
        ([("operation", "lift"), ("nested_under", "meta")], {"other": 1}, {"other": 1}),
        # Nest_under and Nested_under are one setting in Fluent Bit: the Container Insights
        # manifest nests with Nested_under (and the last one written wins)
        (
            [("operation", "nest"), ("wildcard", "Docker.*"), ("nested_under", "docker"), ("remove_prefix", "Docker.")],
            {"log": "x", "Docker.container_id": "0a1b"},
            {"log": "x", "docker": {"container_id": "0a1b"}},
        ),
        (
            [("operation", "lift"), ("nested_under", "a"), ("nest_under", "b")],
            {"a": {"x": 1}, "b": {"y": 2}},
            {"a": {"x": 1}, "y": 2},
        ),
    ],
)
async def test_nest(props: list[tuple[str, str]], record: dict, expected: dict) -> None:
    out = await apply(props, record)
    assert list(out.items()) == list(expected.items())


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ([("operation", "nest"), ("wildcard", "a*"), ("nest_under", "x"), ("add_prefix", "p"), ("remove_prefix", "q")], "together"),
        ([("operation", "nest"), ("wildcard", "a*")], "Nest_under"),
        ([("operation", "lift")], "Nested_under"),
    ],
)
def test_config_errors(props: list[tuple[str, str]], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_plugin("filter", "nest", props)
