"""Fluent Bit's record accessor (``$key['sub'][0]``) and templates built on it.

Used by grep, modify conditions, rewrite_tag and the outputs' name templates
(cloudwatch ``log_group_template``, opensearch ``Index`` ...).  Two things:

**Accessors** name one value inside a record::

    acc = compile_accessor("$kubernetes['labels']['app']")   # or "log" (no $: a top-level key)
    value = acc.get(record)          # MISSING when any step is absent or not a map/list
    acc.key, acc.path                # "kubernetes", ("labels", "app")

``$key`` is a top-level key; ``['name']`` / ``["name"]`` step into a map and
``[N]`` into an array.  Text without ``$`` is a literal top-level key unless it
has subscripts (``kubernetes['x']``), as Fluent Bit prepends the ``$``.

**Templates** are text with placeholders, rendered per record::

    tpl = compile_template("alerts.$TAG[1].$kubernetes['namespace_name'].$1")
    tpl.render(record, tag="app.web", captures=match)   # -> "alerts.web.shop.x"
    tpl.render_strict(record, tag)                       # None if a record key is missing
    tpl.static                                           # the text when it has no placeholders

Placeholders: ``$TAG`` (the whole tag), ``$TAG[n]`` (the n-th dot-separated
part, 0-based), ``$0``–``$9`` (regex captures: any ``re.Match`` or sequence;
``$0`` is the whole match), and ``$name[...]`` accessors (names are
``[A-Za-z0-9_]``, so ``$TAG.$key`` splits at the dots).  Strings render as they
are, ``true``/``false`` for booleans, numbers in decimal, maps and arrays as
JSON; ``render`` gives "" for a missing value, ``render_strict`` gives None.
A ``$`` not followed by a name is literal.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import orjson

__all__ = ["MISSING", "Accessor", "Template", "compile_accessor", "compile_template", "to_text"]


class _Missing:
    """Sentinel for "no such value" (a record value may legitimately be None)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()

_SUBSCRIPT = re.compile(r"""\[(?:'([^']*)'|"([^"]*)"|(-?\d+))\]""")
_PLACEHOLDER = re.compile(r"\$(?:(TAG)(?:\[(\d+)\]|(?![A-Za-z0-9_]))|(\d)|([A-Za-z0-9_]+))")


def _parse_subscripts(text: str, pos: int) -> tuple[tuple[str | int, ...], int]:
    """Consecutive ``['k']`` / ``[N]`` from ``pos``: (path, end position)."""
    path: list[str | int] = []
    while True:
        match = _SUBSCRIPT.match(text, pos)
        if match is None:
            return tuple(path), pos
        name, quoted, index = match.groups()
        path.append(int(index) if index is not None else (name if name is not None else quoted))
        pos = match.end()


class Accessor:
    """A compiled ``$key['a']['b']``; :meth:`get` walks a record."""

    __slots__ = ("text", "key", "path")

    def __init__(self, text: str, key: str, path: tuple[str | int, ...]) -> None:
        self.text = text
        self.key = key
        self.path = path

    def get(self, record: dict[str, Any]) -> Any:
        """The value, or :data:`MISSING`."""
        value = record.get(self.key, MISSING)
        for step in self.path:
            if type(step) is int:
                if not isinstance(value, list) or not -len(value) <= step < len(value):
                    return MISSING
                value = value[step]
            elif isinstance(value, dict):
                value = value.get(step, MISSING)
            else:
                return MISSING
        return value

    def __repr__(self) -> str:
        return f"Accessor({self.text!r})"


def compile_accessor(text: str) -> Accessor:
    """``$key['a'][0]`` or a plain key name -> Accessor (never raises)."""
    body = text[1:] if text.startswith("$") else text
    bracket = body.find("[")
    if bracket > 0:
        path, end = _parse_subscripts(body, bracket)
        if path and end == len(body):
            return Accessor(text, body[:bracket], path)
    if not text.startswith("$"):
        return Accessor(text, text, ())
    return Accessor(text, body, ())


def to_text(value: Any) -> str:
    """A record value as template text."""
    if type(value) is str:
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return str(value)
    return orjson.dumps(value, default=str).decode()


Part = Callable[[dict[str, Any], str, Any], Any]


def _tag_part(index: int | None) -> Part:
    if index is None:
        return lambda record, tag, captures: tag

    def part(record: dict[str, Any], tag: str, captures: Any) -> Any:
        pieces = tag.split(".")
        return pieces[index] if index < len(pieces) else MISSING

    return part


def _capture_part(index: int) -> Part:
    def part(record: dict[str, Any], tag: str, captures: Any) -> Any:
        try:
            value = captures[index]
        except (IndexError, TypeError):
            return MISSING
        return "" if value is None else value

    return part


def _record_part(accessor: Accessor) -> Part:
    get = accessor.get
    return lambda record, tag, captures: get(record)


class Template:
    """Text with ``$TAG``, ``$TAG[n]``, ``$0``–``$9`` and ``$key[...]`` placeholders."""

    __slots__ = ("text", "parts", "static", "accessors")

    def __init__(self, text: str, parts: Sequence[str | Part], accessors: tuple[Accessor, ...]) -> None:
        self.text = text
        self.parts = tuple(parts)
        self.accessors = accessors
        self.static: str | None = text if all(type(p) is str for p in parts) else None

    def render(self, record: dict[str, Any], tag: str = "", captures: Sequence[Any] | None = None) -> str:
        """The text for one record; missing values render as ""."""
        if self.static is not None:
            return self.static
        return self._join(record, tag, captures, strict=False)  # type: ignore[return-value]

    def render_strict(self, record: dict[str, Any], tag: str = "", captures: Sequence[Any] | None = None) -> str | None:
        """Like :meth:`render`, but None when a value is missing or is a map/array."""
        if self.static is not None:
            return self.static
        return self._join(record, tag, captures, strict=True)

    def _join(self, record: dict[str, Any], tag: str, captures: Any, strict: bool) -> str | None:
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            value = part(record, tag, captures)
            if strict and (value is MISSING or isinstance(value, (dict, list))):
                return None
            out.append("" if value is MISSING else to_text(value))
        return "".join(out)

    def __repr__(self) -> str:
        return f"Template({self.text!r})"


def compile_template(text: str) -> Template:
    """Parse a template once (never raises; unknown ``$`` text stays literal)."""
    parts: list[str | Part] = []
    accessors: list[Accessor] = []
    pos = 0
    literal: list[str] = []
    while pos < len(text):
        match = _PLACEHOLDER.match(text, pos) if text[pos] == "$" else None
        if match is None:
            literal.append(text[pos])
            pos += 1
            continue
        if literal:
            parts.append("".join(literal))
            literal = []
        tag, tag_index, capture, name = match.groups()
        pos = match.end()
        if tag:
            parts.append(_tag_part(int(tag_index) if tag_index is not None else None))
        elif capture is not None:
            parts.append(_capture_part(int(capture)))
        else:
            path, pos = _parse_subscripts(text, pos)
            accessor = Accessor(text[match.start() : pos], name, path)
            accessors.append(accessor)
            parts.append(_record_part(accessor))
    if literal:
        parts.append("".join(literal))
    return Template(text, parts, tuple(accessors))


# -- rule helpers shared by the record filters ---------------------------------

_WORD = re.compile(r'"((?:[^"\\]|\\.)*)"|(\S+)')


def split_words(text: str) -> list[str]:
    """Split a rule value on spaces; ``"double quoted"`` words keep their spaces (``\\"`` escapes)."""
    words = []
    for quoted, plain in _WORD.findall(text):
        words.append(plain if plain else re.sub(r"\\(.)", r"\1", quoted))
    return words


def string_search(regex: re.Pattern[str]) -> Callable[[Any], bool]:
    """A predicate that searches ``regex`` in string values only (Fluent Bit never matches numbers)."""
    search = regex.search
    return lambda value: type(value) is str and search(value) is not None
