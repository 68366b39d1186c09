"""Fluent Bit's classic ``.conf`` format, with Fluent Bit's own rules.

The rules follow Fluent Bit's reader (``flb_cf_fluentbit.c``):

* ``[NAME]`` at the start of a line opens a section; ``#`` comments only at
  the start of a line (or right after the indentation); no inline comments.
* The first indented line of a file sets that file's indentation; every
  later property line must use exactly the same (or exactly twice it, which
  Fluent Bit accepts as group content), anything else is an error.
* ``key`` is the text up to the first whitespace, the value is the trimmed
  rest; a key without a value is an error.
* ``@INCLUDE path`` (globs allowed) and ``@SET KEY=VALUE`` directives.

A file whose first line of substance is none of these (``@INCLUDE
/etc/shadow``) is reported once, by name and line number, and not read
further: its lines are never quoted in a message.

Unlike Fluent Bit, which stops at the first problem, every problem is
collected so ``shipper check`` can show them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipper.config.model import FILTER, INPUT, MULTILINE_PARSER, OUTPUT, PARSER, SERVICE, Section
from shipper.errors import Location
from shipper.options import Property, suggest

if TYPE_CHECKING:
    from shipper.config.reader import Reader

#: Section names Fluent Bit's classic format accepts, plural forms included.
SECTION_KINDS = {
    "service": SERVICE,
    "input": INPUT,
    "inputs": INPUT,
    "filter": FILTER,
    "filters": FILTER,
    "output": OUTPUT,
    "outputs": OUTPUT,
    "parser": PARSER,
    "multiline_parser": MULTILINE_PARSER,
}
#: Sections Fluent Bit knows that shipper does not implement.
UNSUPPORTED_SECTIONS = frozenset({"custom", "customs", "plugins", "upstream", "node", "stream_task"})


def parse_classic(reader: Reader, name: str, text: str) -> None:
    """Append the sections of one classic file (and its includes) to the reader's document."""
    _ClassicFile(reader, name).parse(text)


def describe_indent(indent: str) -> str:
    """``4 spaces``, ``1 tab`` or a repr for mixed indentation, for error messages."""
    for char, word in ((" ", "space"), ("\t", "tab")):
        if indent == char * len(indent):
            return f"{len(indent)} {word}{'s' if len(indent) != 1 else ''}"
    return repr(indent)


class _ClassicFile:
    """The per-file state of the classic reader: indentation and the open section."""

    def __init__(self, reader: Reader, name: str) -> None:
        self.reader = reader
        self.name = name
        self.indent: str | None = None
        self.indent_line = 0
        self.section: Section | None = None
        self.ignoring = False  # inside a rejected section: its lines are not reported again
        self.recognised = False  # a section header or a directive was seen: this is a config file

    def parse(self, text: str) -> None:
        for number, raw in enumerate(text.split("\n"), 1):
            line = raw[:-1] if raw.endswith("\r") else raw
            if not line.strip() or line[0] == "#":
                continue
            location = Location(self.name, number)
            if not self.recognised and line[0] not in "@[" and not self._indented_key(line):
                self.reader.error(
                    f"this file does not look like a Fluent Bit configuration file (line {number} is neither "
                    "a [SECTION] header, an @INCLUDE/@SET directive nor an indented key); not read further",
                    location,
                )
                return
            self.recognised = self.recognised or line[0] in "@["
            if line[0] == "@":
                self._directive(line, location)
            elif line[0] == "[":
                self._header(line, location)
            else:
                self._property(line, location)
        if self.section is not None and not self.section.properties:
            self.reader.warn(f"[{self.section.kind.upper()}] section has no keys", self.section.location)

    @staticmethod
    def _indented_key(line: str) -> bool:
        """An indented ``key value`` line (a file may open with one: it is then reported as such)."""
        return line[0] in " \t" and len(line.split(None, 1)) == 2

    def _directive(self, line: str, location: Location) -> None:
        word, rest = (line.split(None, 1) + [""])[:2]
        command = word.upper()
        if command == "@INCLUDE":
            self.reader.include(rest.strip(), self.name, location)
        elif command == "@SET":
            key, equals, value = rest.partition("=")
            if not equals or not key.strip():
                self.reader.error(f"@SET needs KEY=VALUE, got {rest.strip()!r}", location)
            else:
                self.reader.document.variables[key.strip()] = value.strip()
        else:
            self.reader.error(f"unknown directive {word!r} (Fluent Bit knows @INCLUDE and @SET)", location)

    def _header(self, line: str, location: Location) -> None:
        if self.section is not None and not self.section.properties:
            self.reader.warn(f"[{self.section.kind.upper()}] section has no keys", self.section.location)
        self.section, self.ignoring = None, True
        end = line.find("]")
        if end < 0:
            self.reader.error(f"bad section header {line.strip()!r}: missing ']'", location)
            return
        title = line[1:end].strip()
        kind = SECTION_KINDS.get(title.lower())
        if kind is None:
            if title.lower() in UNSUPPORTED_SECTIONS:
                message = f"section [{title}] exists in Fluent Bit but shipper does not support it"
            else:
                message = f"unknown section [{title}]{suggest(title, SECTION_KINDS)}"
            self.reader.error(message, location)
            return
        self.section = self.reader.open_section(kind, location)
        self.ignoring = self.section is None

    def _property(self, line: str, location: Location) -> None:
        body = self._dedent(line, location)
        if body is None or body[0] == "#":
            return
        parts = body.split(None, 1)
        key = parts[0]
        value = parts[1].strip() if len(parts) > 1 else ""
        if key[0] == "[":
            self.reader.error(f"section header {body.strip()!r} must start at the beginning of the line", location)
        elif not value:
            self.reader.error(f"key {key!r} has no value", location)
        elif self.section is not None:
            self.section.properties.append(Property(key, value, location))
        elif not self.ignoring:
            self.reader.error(f"{key!r} is outside of any section (add [INPUT], [OUTPUT], ... above it)", location)

    def _dedent(self, line: str, location: Location) -> str | None:
        """The line without its indentation, or None (and an error) when it breaks the file's indent."""
        body = line.lstrip(" \t")
        indent = line[: len(line) - len(body)]
        if self.indent is None:
            if not indent:
                self.reader.error(
                    f"{body.split(None, 1)[0]!r} must be indented under its section header "
                    "(Fluent Bit requires the keys of a section to be indented)",
                    location,
                )
                return None
            self.indent, self.indent_line = indent, location.line
            return body
        if indent == self.indent or indent == self.indent * 2:
            return body
        if not indent:
            problem = "is not indented"
        elif indent.startswith(self.indent):
            problem = f"has extra indentation ({describe_indent(indent)})"
        elif len(indent) >= len(self.indent):
            problem = f"mixes tabs and spaces ({describe_indent(indent)})"
        else:
            problem = f"is indented too little ({describe_indent(indent)})"
        self.reader.error(
            f"invalid indentation: this line {problem}; this file's indentation is {describe_indent(self.indent)}, "
            f"set by its first indented line ({self.name}:{self.indent_line})",
            location,
        )
        return None
