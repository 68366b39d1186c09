"""rewrite_tag: rules, templates, keep, loop detection (Fluent Bit docs + golden 30)."""

from __future__ import annotations

import pytest

from shipper.errors import ConfigError
from shipper.filters.rewrite_tag import globs_intersect
from shipper.options import ignored_options
from tests.factory import make_context, make_plugin


class Recorder:
    def __init__(self) -> None:
        self.emitted: list[tuple[str, list]] = []

    def reemit(self, tag: str, events: list) -> None:
        self.emitted.append((tag, events))


def make(rules: list[str], match: str = "app.*", **extra: str):  # type: ignore[no-untyped-def]
    context = make_context()
    recorder = Recorder()
    context.runtime = recorder  # type: ignore[assignment]
    props = [("match", match), *(("rule", r) for r in rules), *extra.items()]
    return make_plugin("filter", "rewrite_tag", props, context=context), recorder


async def test_docs_example() -> None:
    plugin, recorder = make([r"$tool ^(fluent)$ from.$TAG.new.$tool.$sub['s1']['s2'].out false"], match="test_tag")
    record = {"tool": "fluent", "sub": {"s1": {"s2": "bit"}}}
    assert await plugin.process("test_tag", [(5, record)]) == []
    assert recorder.emitted == [("from.test_tag.new.fluent.bit.out", [(5, record)])]


RULES = [
    r"$level ^(error|fatal)$ alerts.$TAG[1].$1 false",
    r"$kubernetes['labels']['team'] ^(\w+)$ team.$1.$TAG[2] true",
    r"$msg ^audit:\s*(.*)$ audit.$TAG true",
    r"$code ^(4|5)\d\d$ http.$0.class$1 true",
]


async def test_first_matching_rule_wins_keep_and_captures() -> None:
    plugin, recorder = make(RULES)
    events = [
        (1, {"level": "info", "msg": "plain"}),
        (2, {"level": "error", "msg": "db", "kubernetes": {"labels": {"team": "payments"}}}),
        (3, {"level": "info", "kubernetes": {"labels": {"team": "search"}}}),
        (4, {"level": "warn", "msg": "audit: user=bob"}),
        (5, {"level": "fatal", "msg": "audit: both"}),
        (6, {"level": "info", "kubernetes": {"labels": {"team": "two words"}}}),
        (7, {"code": "503"}),
        (8, {"code": 404}),
    ]
    kept = await plugin.process("app.web.v1", events)
    assert [ts for ts, _ in kept] == [1, 3, 4, 6, 7, 8]
    assert [(tag, [ts for ts, _ in batch]) for tag, batch in recorder.emitted] == [
        ("alerts.web.error", [2]),
        ("team.search.v1", [3]),
        ("audit.app.web.v1", [4]),
        ("alerts.web.fatal", [5]),
        ("http.503.class5", [7]),
    ]


async def test_kept_records_are_copies() -> None:
    plugin, recorder = make([r"$a ^x$ copy.x true"])
    [(_, original)] = await plugin.process("app.1", [(0, {"a": "x"})])
    original["changed"] = True
    assert recorder.emitted[0][1][0][1] == {"a": "x"}


@pytest.mark.parametrize(
    ("match", "rule"),
    [
        ("app.*", r"$a ^x$ app.$TAG false"),
        ("app.*", r"$a ^x$ $TAG.copy false"),
        ("*", r"$a ^x$ anything false"),
        ("alerts", r"$a ^x$ alerts false"),
    ],
)
def test_rules_that_would_loop_are_rejected(match: str, rule: str) -> None:
    with pytest.raises(ConfigError, match="loop"):
        make([rule], match=match)


def test_loop_check_with_match_regex() -> None:
    with pytest.raises(ConfigError, match="loop"):
        make([r"$a ^x$ app.$1 false"], match="", match_regex=r"^app\.")


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (r"$a ^x$ new", "takes"),
        (r"$a (?<=x+)y new maybe", "Rule"),
        (r"$a ^x$ new maybe", "Rule"),
    ],
)
def test_rule_errors(rule: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make([rule])


def test_emitter_options_are_accepted_and_said_to_be_ignored() -> None:
    plugin, _ = make([r"$a ^x$ b false"], emitter_name="re_emitted", emitter_mem_buf_limit="5M")
    warnings = [str(w) for w in ignored_options(plugin.option_table(), plugin.settings, "[FILTER] rewrite_tag")]
    assert [w.split(": option ")[1].split(" is ")[0] for w in warnings] == ["'emitter_name'", "'emitter_mem_buf_limit'"]
    assert all("accepted and ignored" in w for w in warnings)


@pytest.mark.parametrize(
    ("a", "b", "meet"),
    [("app.*", "alerts.*", False), ("app.*", "*.x", True), ("a*c", "ab*", True), ("abc", "abd", False), ("**", "", True)],
)
def test_globs_intersect(a: str, b: str, meet: bool) -> None:
    assert globs_intersect(a, b) is meet
