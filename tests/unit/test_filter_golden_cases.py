"""Golden cases 16-30 (real Fluent Bit 5.1.1 output) through our parsers and filters.

The tail input and the engine belong to other modules, so this test plays
their part minimally: each input file's lines become ``{"log": line}`` records
(or the tail ``Parser``'s result) tagged as ``Tag x.*`` would tag them, and the
filters run in config order, re-emitted records from the chain's start.  It
checks what this module owns: parser output and filter semantics, per tag.
"""

from __future__ import annotations

import glob
import json
import re
import time
from pathlib import Path

import pytest

from shipper import registry
from shipper.config.loader import load_config
from shipper.engine.router import matcher
from shipper.errors import ConfigError
from shipper.options import resolve
from shipper.parsers import build_parsers
from shipper.plugin import Context, Filter
from tests.factory import make_context
from tests.golden_corpus import GOLDEN_DIR, requires_golden

pytestmark = requires_golden
CASES = [f"{n}-" for n in range(16, 31)]


class _Chain:
    """Just enough of the engine: filters in order, rewrite_tag re-emission from the start."""

    def __init__(self, filters: list[tuple[Filter, object]]) -> None:
        self.filters = filters
        self.pending: list[tuple[str, list]] = []

    def reemit(self, tag: str, events: list) -> None:
        self.pending.append((tag, events))

    async def run(self, tag: str, events: list, out: dict[str, list]) -> None:
        for plugin, matches in self.filters:
            if events and matches(tag):
                events = await plugin.process(tag, events)
        out.setdefault(tag, []).extend(events)
        while self.pending:
            new_tag, batch = self.pending.pop(0)
            await self.run(new_tag, batch, out)


def _case_dir(prefix: str) -> Path:
    return next(p for p in GOLDEN_DIR.iterdir() if p.name.startswith(prefix))


def _tag_for(tag: str, path: Path) -> str:
    if "*" not in tag:
        return tag
    dotted = re.sub(r"\.+", ".", re.sub(r"[/\\:]", ".", str(path))).lstrip(".")
    return tag.replace("*", dotted)


@pytest.mark.parametrize("prefix", CASES)
async def test_golden_case(prefix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    case = _case_dir(prefix)
    input_dir = case / "input"
    monkeypatch.setenv("GOLDEN_INPUT", str(input_dir))
    document = load_config(str(case / "fluent-bit.conf"))
    errors: list[ConfigError] = list(document.errors)
    parsers = build_parsers(document.parsers, errors)
    assert not errors, errors
    context: Context = make_context()
    context.parsers = parsers
    filters = []
    for section in document.filters:
        cls = registry.lookup("filter", section.plugin_name or "")
        assert cls is not None
        settings = resolve(cls.option_table(), section.properties, section.location, "filter", cls.name)
        plugin = cls(settings, context)
        filters.append((plugin, matcher(settings.get("match"), settings.get("match_regex"))))
    chain = _Chain(filters)
    context.runtime = chain  # type: ignore[assignment]
    now = time.time_ns()
    out: dict[str, list] = {}
    for source in document.inputs:
        tail_parser = parsers.get(source.get("parser") or "")
        paths = sorted(Path(p) for p in glob.glob(source.get("path")))
        for path in paths:
            events = []
            for line in path.read_text().split("\n")[:-1]:
                parsed = tail_parser.parse(line) if tail_parser else None
                ts, record = parsed if parsed else (None, {"log": line})
                events.append((now if ts is None else ts, record))
            await chain.run(_tag_for(source.get("tag"), path), events, out)
    expected: dict[str, list] = {}
    input_tag = _tag_for("*", input_dir)
    year_fix = time.gmtime().tm_year != 2026
    for line in (case / "expected.jsonl").read_text().splitlines():
        item = json.loads(line)
        tag = item["tag"].replace("${GOLDEN_INPUT_TAG}", input_tag)
        expected.setdefault(tag, []).append((item["time"], item["record"]))
    assert sorted(out) == sorted(expected)
    for tag, items in expected.items():
        got = [(None if ts == now else ts, list(record.items())) for ts, record in out[tag]]
        items = [(ts, list(record.items())) for ts, record in items]
        if year_fix and "rfc3164" in tag:
            got = [(None, r) for _, r in got]
            items = [(None, r) for _, r in items]
        assert got == items, tag
