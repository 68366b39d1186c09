"""The record filters never raise on odd records (the engine would pass a half-changed chunk on)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings, strategies as st

from tests.factory import make_context, make_plugin

VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["a", "b", "m_x", "log"]), inner, max_size=3),
    max_leaves=6,
)
RECORDS = st.dictionaries(st.sampled_from(["a", "b", "log", "level", "kubernetes", "tmp_x", "m_x", "meta"]), VALUES, max_size=6)


class Sink:
    def reemit(self, tag: str, events: list) -> None:
        pass


FILTERS: list[tuple[str, list[tuple[str, str]]]] = [
    ("grep", [("regex", "$kubernetes['labels'][0] ^a"), ("exclude", "log b")]),
    ("grep", [("logical_op", "or"), ("regex", "level ^e"), ("regex", "$meta['m_x'] .")]),
    ("modify", [("condition", "Matching_keys_have_matching_values ^m_ ^x"), ("condition", "Key_exists $meta['a']"),
                ("rename", "a z"), ("hard_copy", "meta b"), ("move_to_start", "tmp_"), ("set", "level x")]),
    ("modify", [("condition", "Key_value_does_not_match log ^a"), ("remove_regex", "^t"), ("copy", "log log2")]),
    ("record_modifier", [("allowlist_key", "a"), ("allowlist_key", "log"), ("record", "r 1"), ("uuid_key", "id")]),
    ("nest", [("operation", "nest"), ("wildcard", "m_*"), ("wildcard", "a"), ("nest_under", "meta")]),
    ("nest", [("operation", "lift"), ("nested_under", "meta"), ("remove_prefix", "m_")]),
    ("rewrite_tag", [("rule", r"$log ^(\w*)$ new.$1.$TAG[1].$meta['a'] true")]),
]


@settings(max_examples=60, deadline=None)
@given(st.lists(RECORDS, max_size=5))
async def test_filters_never_raise(records: list[dict[str, Any]]) -> None:
    context = make_context()
    context.runtime = Sink()  # type: ignore[assignment]
    for name, props in FILTERS:
        plugin = make_plugin("filter", name, [("match", "app.*"), *props], context=context)
        events = [(i, dict(r)) for i, r in enumerate(records)]
        out = await plugin.process("app.x", events)
        assert all(isinstance(record, dict) for _, record in out)
