"""record_modifier: Record, Remove_key, Allowlist_key/Whitelist_key, UUID_key (Fluent Bit docs + golden 28)."""

from __future__ import annotations

import uuid

import pytest

from shipper.errors import ConfigError
from tests.factory import make_context, make_plugin

MEM = {"Mem.total": 1016024, "Mem.used": 716672, "Mem.free": 299352, "Swap.total": 2064380}


async def apply(props: list[tuple[str, str]], record: dict, context=None) -> list[tuple[str, object]]:  # type: ignore[no-untyped-def]
    plugin = make_plugin("filter", "record_modifier", props, context=context)
    [(ts, out)] = await plugin.process("t", [(3, dict(record))])
    assert ts == 3
    return list(out.items())


async def test_docs_example_records_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOSTNAME", "node-1")
    out = await apply([("record", "hostname ${HOSTNAME}"), ("record", "product Awesome_Tool")], MEM)
    assert out == [*MEM.items(), ("hostname", "node-1"), ("product", "Awesome_Tool")]


async def test_variables_from_set_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLUSTER", "from-env")
    context = make_context()
    context.variables = {"CLUSTER": "from-set"}
    assert await apply([("record", "cluster ${CLUSTER}")], {}, context) == [("cluster", "from-set")]


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ([("remove_key", "Swap.total")], [("Mem.total", 1016024), ("Mem.used", 716672), ("Mem.free", 299352)]),
        ([("allowlist_key", "Mem.total"), ("allowlist_key", "missing")], [("Mem.total", 1016024)]),
        ([("whitelist_key", "Mem.used")], [("Mem.used", 716672)]),
        (
            [("record", "Mem.total replaced"), ("record", 'note "two words value"')],
            [("Mem.used", 716672), ("Mem.free", 299352), ("Swap.total", 2064380), ("Mem.total", "replaced"), ("note", "two words value")],
        ),
        ([("allowlist_key", "Mem.free"), ("record", "added after")], [("Mem.free", 299352), ("added", "after")]),
        ([("remove_key", "Mem.used"), ("record", "Mem.total x")], [("Mem.free", 299352), ("Swap.total", 2064380), ("Mem.total", "x")]),
    ],
)
async def test_options(props: list[tuple[str, str]], expected: list[tuple[str, object]]) -> None:
    assert await apply(props, MEM) == expected


async def test_uuid_key_is_unique_per_record() -> None:
    plugin = make_plugin("filter", "record_modifier", [("uuid_key", "uuid")])
    out = await plugin.process("t", [(0, {}), (0, {})])
    ids = [record["uuid"] for _, record in out]
    assert len(set(ids)) == 2 and all(uuid.UUID(i) for i in ids)


def test_unquoted_multi_word_record_is_an_error() -> None:
    with pytest.raises(ConfigError, match="quote"):
        make_plugin("filter", "record_modifier", [("record", "note two words")])
