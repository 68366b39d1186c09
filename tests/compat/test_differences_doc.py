"""The lists that steer the compat suite are consistent, and docs/differences.md follows differences.toml."""

from __future__ import annotations

import re
from pathlib import Path

from tests.compat.cases import DIFFERENCES_DIR, load_differences, load_pending
from tests.compat.differences_doc import drift, render_doc
from tests.compat.golden import EXPECTED_FILES, discover
from tests.golden_corpus import requires_golden


def test_docs_match_differences_toml() -> None:
    assert drift(load_differences()) == []


@requires_golden
def test_every_difference_names_a_golden_case_and_says_why() -> None:
    cases = {c.name for c in discover()}
    differences = load_differences()
    assert len({d.id for d in differences}) == len(differences), "difference ids must be unique"
    for diff in differences:
        assert diff.case in cases, f"{diff.id}: no golden case {diff.case!r}"
        assert re.fullmatch(r"[a-z0-9-]+", diff.id), f"{diff.id}: ids are lower-case words joined by '-'"
        assert diff.fluent_bit and diff.shipper and diff.reason, f"{diff.id}: say what Fluent Bit does, what shipper does and why"


def test_difference_folders_hold_only_expectations_and_input() -> None:
    known = {d.id for d in load_differences()}
    if not DIFFERENCES_DIR.is_dir():
        return
    for folder in DIFFERENCES_DIR.iterdir():
        assert folder.name in known, f"differences/{folder.name} belongs to no entry of differences.toml"
        stray = {p.name for p in folder.iterdir()} - set(EXPECTED_FILES) - {"input"}
        assert not stray, f"differences/{folder.name}: unexpected {sorted(stray)}"


@requires_golden
def test_pending_entries_name_existing_cases() -> None:
    ids = {c.name for c in discover()} | {f"diff-{d.id}" for d in load_differences()}
    unknown = sorted(set(load_pending()) - ids)
    assert not unknown, f"pending.toml names no such case: {unknown}"


def test_a_page_that_drifted_from_the_list_is_reported(tmp_path: Path) -> None:
    differences = load_differences()
    doc = tmp_path / "differences.md"
    doc.write_text(render_doc(differences))
    assert drift(differences, doc) == []
    doc.write_text(render_doc(differences[1:]))
    assert "stale" in drift(differences, doc)[0]
    assert "stale" in drift(differences, tmp_path / "missing.md")[0]
