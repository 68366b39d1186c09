"""Print a read configuration back as classic ``.conf`` text.

Used to show the resolved pipeline (a YAML or ConfigMap config as the
classic text it amounts to) and by the reader's round-trip property test:
whatever the reader accepts, rendered and read again, gives the same
sections and properties.  Values are printed after ``${VAR}`` expansion, so
the text no longer depends on the environment.
"""

from __future__ import annotations

from collections.abc import Collection

from shipper.config.model import ConfigDocument

INDENT = "    "


def render_classic(document: ConfigDocument, kinds: Collection[str] | None = None) -> str:
    """The document as classic text; ``kinds`` limits it to some sections.

    ``[PARSER]`` and ``[MULTILINE_PARSER]`` belong in a parsers file, so to
    write a config that reads back, render them separately with ``kinds``.
    """
    lines = [f"@SET {name}={value}" for name, value in document.variables.items()]
    for section in document.sections:
        if kinds is not None and section.kind not in kinds:
            continue
        if lines:
            lines.append("")
        lines.append(f"[{section.kind.upper()}]")
        lines.extend(f"{INDENT}{prop.key} {prop.value}" for prop in section.properties)
    return "\n".join(lines) + "\n"
