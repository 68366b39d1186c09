"""State shared by the classic and YAML readers: includes, sections, problems.

One :class:`Reader` reads one *role* of a configuration: the main file and
everything it includes, or one parsers file.  It knows which section kinds
that role may hold (``[PARSER]`` belongs in parsers files, as in Fluent Bit),
tracks the chain of includes to report cycles and files included twice, and
dispatches each file to the classic or the YAML reader by its extension.
"""

from __future__ import annotations

import os
from enum import Enum

from shipper.config.classic import parse_classic
from shipper.config.files import GLOB_CHARS, Files
from shipper.config.model import (
    FILTER,
    INPUT,
    MULTILINE_PARSER,
    OUTPUT,
    PARSER,
    SERVICE,
    ConfigDocument,
    Section,
)
from shipper.config.yaml_format import parse_yaml
from shipper.errors import ConfigError, Location

PIPELINE_KINDS = frozenset({SERVICE, INPUT, FILTER, OUTPUT})
PARSER_KINDS = frozenset({PARSER, MULTILINE_PARSER})
YAML_SUFFIXES = (".yaml", ".yml")


class Role(Enum):
    """What a file may hold: the pipeline, parser definitions, or anything (checked later)."""

    MAIN = "main"
    PARSERS = "parsers"
    ANY = "any"


def is_yaml_name(name: str) -> bool:
    """YAML files are recognised by extension, as Fluent Bit does (``foo.yaml[key]`` too)."""
    return name.rstrip("]").lower().endswith(YAML_SUFFIXES)


class Reader:
    """Reads files of one role into a shared :class:`ConfigDocument`."""

    def __init__(self, files: Files, document: ConfigDocument, main: str, role: Role) -> None:
        self.files = files
        self.document = document
        self.main = main
        self.role = role
        self._chain: list[tuple[str, str]] = []  # (identity, name) of the files being read
        self._seen: dict[str, Location | None] = {}  # identity -> where it was included

    def error(self, message: str, location: Location) -> None:
        self.document.errors.append(ConfigError(message, location))

    def warn(self, message: str, location: Location) -> None:
        self.document.warnings.append(ConfigError(message, location))

    def read(self, name: str, included_from: Location | None = None) -> None:
        """Read one file (and, through it, everything it includes)."""
        identity = self.files.identity(name)
        identities = [i for i, _ in self._chain]
        if identity in identities:
            cycle = [n for _, n in self._chain[identities.index(identity) :]] + [name]
            self.error(f"include cycle: {' -> '.join(cycle)}", included_from or Location(name))
            return
        if identity in self._seen:
            first = self._seen[identity]
            where = f"first included at {first}" if first else "it is the main configuration file"
            self.error(f"{name} is included twice ({where}); Fluent Bit refuses this too", included_from or Location(name))
            return
        try:
            text = self.files.read(name)
        except OSError as exc:
            self.error(f"cannot read {name}: {exc.strerror or exc}", included_from or Location(name))
            return
        if "\0" in text:
            # /proc/self/environ and binaries: never parsed, so never quoted in a message
            self.error(f"{name} is not a text file (it holds NUL bytes); not read", included_from or Location(name))
            return
        self._seen[identity] = included_from
        real = self.files.real_path(name)
        if real not in self.document.files:
            self.document.files.append(real)
        self._chain.append((identity, name))
        try:
            (parse_yaml if is_yaml_name(name) else parse_classic)(self, name, text)
        finally:
            self._chain.pop()

    def include(self, path: str, current: str, location: Location) -> None:
        """``@INCLUDE`` / YAML ``includes``: the including file's directory, then the main file's, then the cwd."""
        bases = list(dict.fromkeys([self.files.directory(current), self.files.directory(self.main), ""]))
        if not path:
            self.error("@INCLUDE needs a file name", location)
            return
        if GLOB_CHARS & set(path):
            names = self.files.glob(path, bases)
            if not names:
                self.error(f"@INCLUDE {path}: no file matches{_describe(path, bases)}", location)
            for name in names:
                self.read(name, location)
            return
        found = self.files.find(path, bases)
        if found is None:
            self.error(f"@INCLUDE {path}: file not found{_describe(path, bases)}", location)
            return
        self.read(found, location)

    def open_section(self, kind: str, location: Location, parsers_in_main: bool = False) -> Section | None:
        """Start a section if this role may hold it; None (and a message) if not.

        ``parsers_in_main``: Fluent Bit's YAML format (unlike the classic one)
        may define parsers in the main file.
        """
        if self.role is Role.MAIN and kind in PARSER_KINDS and not parsers_in_main:
            self.error(
                f"[{kind.upper()}] is not valid in the main configuration: it belongs in a file named by "
                "Parsers_File (or -R), as Fluent Bit requires",
                location,
            )
            return None
        if self.role is Role.PARSERS and kind not in PARSER_KINDS:
            self.warn(f"[{kind.upper()}] in a parsers file is ignored (only [PARSER] and [MULTILINE_PARSER] are read)", location)
            return None
        section = Section(kind, [], location)
        self.document.sections.append(section)
        return section


def _describe(path: str, bases: list[str]) -> str:
    """Where an @INCLUDE was looked for: nowhere else than itself when it is absolute."""
    if os.path.isabs(path):
        return ""
    return " (looked in " + ", ".join(os.path.abspath(b) if b else "the working directory" for b in bases) + ")"
