"""Plugin option tables as Markdown, generated from each plugin's :class:`~shipper.options.Option` table.

The option table a plugin declares is what config parsing, ``shipper check`` and ``shipper plugins NAME``
use, so the documentation takes its options table from there too instead of keeping a copy by hand.
``shipper plugins NAME --markdown`` prints one plugin's table. ``python -m shipper.plugin_docs`` rewrites
the table of every page in ``docs/plugins/`` in place, between :data:`BEGIN` and :data:`END`, and writes a
stub page for a plugin that has none; ``--check`` only reports what is stale or missing (a unit test
runs the same check, so a changed option fails the suite until the pages are regenerated).
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

from shipper import registry
from shipper.options import Option
from shipper.plugin import Plugin

BEGIN = "<!-- options:begin -->"
END = "<!-- options:end -->"
_NOTE = "<!-- generated from the plugin's option table: edit the plugin, then run python -m shipper.plugin_docs -->"
#: where the pages live in a source checkout
PAGES = Path(__file__).resolve().parents[1] / "docs" / "plugins"


def default_text(option: Option) -> str:
    """The default as a user writes it in a config (empty when there is none)."""
    default = option.default
    if default is None or default == "" or default == [] or option.repeatable:
        return ""
    if isinstance(default, bool):
        return "on" if default else "off"
    return str(default)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    return f"`{_cell(text)}`" if text else ""


def options_markdown(cls: type[Plugin]) -> str:
    """One plugin's options as a Markdown table: the kind's common options first, then its own."""
    lines = ["| option | type | default | description |", "|---|---|---|---|"]
    for option in cls.option_table():
        text = option.ignored_note if option.ignored else option.help
        notes = [text.rstrip(".")] if text else []
        if option.choices:
            notes.append("one of " + ", ".join(f"`{c}`" for c in option.choices))
        if option.required:
            notes.append("**required**")
        if option.repeatable:
            notes.append("repeatable")
        description = "; ".join(notes)
        lines.append(f"| `{option.name}` | {option.type} | {_code(default_text(option))} | {_cell(description)} |")
    return "\n".join(lines) + "\n"


def documented_plugins() -> dict[str, list[type[Plugin]]]:
    """shipper's own plugins by page name (a name used by two kinds shares one page)."""
    pages: dict[str, list[type[Plugin]]] = defaultdict(list)
    for cls in registry.plugins():
        if cls.__module__.startswith("shipper."):
            pages[cls.name].append(cls)
    return dict(pages)


def render_block(classes: list[type[Plugin]]) -> str:
    """The generated part of a page, markers included."""
    parts = []
    for cls in classes:
        heading = f"**{cls.kind} `{cls.name}`**\n\n" if len(classes) > 1 else ""
        parts.append(heading + options_markdown(cls))
    return f"{BEGIN}\n{_NOTE}\n\n" + "\n".join(parts) + f"\n{END}"


def refresh(text: str, classes: list[type[Plugin]]) -> str:
    """``text`` with the generated block replaced; ValueError when the page has no markers."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"no {BEGIN!r} ... {END!r} markers")
    return text[:start] + render_block(classes) + text[end + len(END) :]


def stub(classes: list[type[Plugin]]) -> str:
    """A new page: title, summary and the generated table; the prose is for the plugin's author."""
    cls = classes[0]
    aliases = f" (alias {', '.join(f'`{a}`' for a in cls.aliases)})" if cls.aliases else ""
    return (
        f"# {cls.kind} `{cls.name}`{aliases}\n\n{cls.summary[:1].upper()}{cls.summary[1:]}.\n\n"
        f"## Options\n\n{render_block(classes)}\n"
    )


def problems(pages: Path = PAGES) -> list[str]:
    """Pages that are missing, lack the markers or hold a stale table (empty when all are current)."""
    found = []
    for name, classes in sorted(documented_plugins().items()):
        page = pages / f"{name}.md"
        if not page.is_file():
            found.append(f"{page.name}: missing")
            continue
        text = page.read_text(encoding="utf-8")
        try:
            current = refresh(text, classes) == text
        except ValueError as exc:
            found.append(f"{page.name}: {exc}")
            continue
        if not current:
            found.append(f"{page.name}: options table is stale")
    return found


def write(pages: Path = PAGES) -> list[str]:
    """Regenerate every page's table in place and write stubs for missing pages; returns what changed."""
    changed = []
    for name, classes in sorted(documented_plugins().items()):
        page = pages / f"{name}.md"
        text = page.read_text(encoding="utf-8") if page.is_file() else None
        new = stub(classes) if text is None else refresh(text, classes)
        if new != text:
            page.write_text(new, encoding="utf-8")
            changed.append(f"{page.name}: {'written (stub: add the prose)' if text is None else 'table updated'}")
    return changed


def main(argv: list[str]) -> int:
    if "--check" in argv:
        found = problems()
        for problem in found:
            print(f"docs/plugins/{problem}; run python -m shipper.plugin_docs", file=sys.stderr)
        return 1 if found else 0
    for change in write():
        print(f"docs/plugins/{change}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
