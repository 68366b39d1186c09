"""The plugin pages' options tables are generated from the option tables, and are current."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipper import registry
from shipper.cli import main
from shipper.plugin_docs import BEGIN, END, PAGES, documented_plugins, problems, refresh, render_block, write


def test_every_plugin_has_a_page_with_a_current_options_table() -> None:
    assert problems() == [], "run python -m shipper.plugin_docs and commit docs/plugins/"


def test_markdown_lists_every_option_with_its_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins", "tail", "--markdown"]) == 0
    table = capsys.readouterr().out
    tail = registry.lookup("input", "tail")
    assert tail is not None
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == [option.name for option in tail.option_table()]
    assert "| `refresh_interval` | duration | `60` |" in table
    assert "| `path` | str |  | comma-separated globs of files to read; **required** |" in table


def test_markdown_needs_a_plugin_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins", "--markdown"]) == 2
    assert "shipper plugins NAME --markdown" in capsys.readouterr().err


def test_only_the_text_between_the_markers_is_rewritten() -> None:
    grep = registry.lookup("filter", "grep")
    assert grep is not None
    page = f"# grep\n\nprose\n\n{BEGIN}\nold table\n{END}\n\nmore prose\n"
    assert refresh(page, [grep]) == f"# grep\n\nprose\n\n{render_block([grep])}\n\nmore prose\n"
    with pytest.raises(ValueError, match="markers"):
        refresh("# grep\n", [grep])


def test_missing_stale_and_unmarked_pages_are_reported_and_fixed(tmp_path: Path) -> None:
    for page in PAGES.glob("*.md"):
        (tmp_path / page.name).write_text(page.read_text())
    (tmp_path / "grep.md").unlink()
    nest = tmp_path / "nest.md"
    nest.write_text(nest.read_text().replace("| `wildcard` |", "| `wildcards` |"))
    (tmp_path / "throttle.md").write_text("# throttle\n")
    assert problems(tmp_path) == [
        "grep.md: missing",
        "nest.md: options table is stale",
        f"throttle.md: no {BEGIN!r} ... {END!r} markers",
    ]
    (tmp_path / "throttle.md").unlink()
    write(tmp_path)
    assert problems(tmp_path) == []
    assert "## Options" in (tmp_path / "grep.md").read_text()


def test_the_readme_plugin_table_links_every_plugin_page() -> None:
    """A plugin that lands without a row in the README's table is invisible to users who read only the README."""
    readme = (PAGES.parents[1] / "README.md").read_text()
    missing = [name for name in documented_plugins() if f"(docs/plugins/{name}.md)" not in readme]
    assert missing == [], f"add a row for {missing} to the plugin table in README.md"
