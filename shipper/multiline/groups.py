"""Rule-driven grouping (``type regex``, ``endswith``, ``equal``) for one stream.

This is the general engine behind the go/python/java/ruby parsers, custom
``[MULTILINE_PARSER]`` sections and the multiline filter.  It follows
Fluent Bit's semantics:

- inside a group, only the current rule's non-start successors may extend
  it; otherwise a start rule may open a new group (flushing the old one);
  a line matching neither is not accepted (the chain flushes and passes
  it through on its own);
- a rule after which a start rule could follow completes the group;
- pieces are joined with ``\\n`` unless the previous piece already ends
  with one, so tail lines (given with their newline) give ``a\\nb\\n`` and
  filter values give ``a\\nb``;
- the group keeps the first record's other keys and time.

Groups are kept per ``key_group`` value.  A group that would grow past
``BUFFER_LIMIT`` is emitted as it is and counted in ``truncated``; the
rest of the lines start afresh, so nothing is lost.
"""

from __future__ import annotations

import time
from typing import Any

from shipper.events import Event
from shipper.multiline.definition import BUFFER_LIMIT, MultilineParser, StateRule


class _Group:
    __slots__ = ("parts", "record", "rule", "size", "time", "touched")

    def __init__(self) -> None:
        self.record: dict[str, Any] | None = None
        self.time = 0
        self.parts: list[str] = []
        self.size = 0
        self.rule: StateRule | None = None
        self.touched = 0.0


class RuleDecoder:
    """State of one rule-driven multiline parser for one stream.

    ``text_mode`` items are raw lines (tail); otherwise items are events
    whose ``key`` holds the text (multiline filter).  ``key`` is also where
    tail puts the joined text when the parser has no ``key_content``.
    """

    def __init__(self, parser: MultilineParser, key: str, text_mode: bool) -> None:
        self.parser = parser
        self.key = (parser.key_content or key) if text_mode else key
        #: lines of raw text are joined with newlines; values of a key are concatenated as they are.
        self.join_lines = text_mode and parser.parser is None
        self.text_mode = text_mode
        self.groups: dict[Any, _Group] = {}
        self.truncated = 0
        self.timeout = parser.flush_ms / 1000.0

    # -- the decoder protocol ------------------------------------------------
    def decode(self, items: list[Any], start: int, end: int, ts: int, out: list[Event]) -> int:
        step = self._step
        for index in range(start, end):
            if not step(items[index], ts, out):
                return index
        return end

    def flush(self, out: list[Event]) -> None:
        for group in self.groups.values():
            self._emit(group, out)

    def expire(self, now: float, out: list[Event]) -> None:
        for group in self.groups.values():
            if group.parts and now - group.touched >= self.timeout:
                self._emit(group, out)

    def pending(self) -> bool:
        return any(group.parts for group in self.groups.values())

    # -- one item ---------------------------------------------------------------
    def _extract(self, item: Any, ts: int) -> tuple[int, dict[str, Any], str] | None:
        """The item's time, record and content, or None when this parser cannot take it."""
        parser = self.parser
        if self.text_mode:
            if parser.parser is None:
                return ts, {self.key: item + "\n"}, item + "\n"
            parsed = parser.parser.parse(item)
            if parsed is None:
                return None
            when, record = parsed
            ts = when if when is not None else ts
        else:
            ts, record = item
            if parser.parser is not None:
                text = record.get(self.key)
                if not isinstance(text, str):
                    return None
                parsed = parser.parser.parse(text)
                if parsed is None:
                    return None
                when, record = parsed
                ts = when if when is not None else ts
        content = record.get(self.key)
        if not isinstance(content, str):
            return None
        return ts, record, content

    def _step(self, item: Any, ts: int, out: list[Event]) -> bool:
        extracted = self._extract(item, ts)
        if extracted is None:
            return False
        when, record, content = extracted
        parser = self.parser
        group_key = record.get(parser.key_group) if parser.key_group else None
        group = self.groups.get(group_key)
        if group is None:
            group = self.groups[group_key] = _Group()
        if group.size + len(content) > BUFFER_LIMIT and group.parts:
            self.truncated += 1
            self._emit(group, out)
        if parser.type == "regex":
            return self._step_regex(group, when, record, content, out)
        if not group.parts:
            self._open(group, when, record)
        elif self.join_lines and not group.parts[-1].endswith("\n"):
            self._append(group, "\n")
        self._append(group, content)
        if parser.type == "endswith":
            matched = content.endswith(parser.match_str)
        else:
            pattern = record.get(parser.key_pattern) if parser.key_pattern else content
            matched = pattern == parser.match_str
        if matched != parser.negate:
            self._emit(group, out)
        return True

    def _step_regex(self, group: _Group, when: int, record: dict[str, Any], content: str, out: list[Event]) -> bool:
        parser = self.parser
        rule = None
        if group.rule is not None:
            for candidate in parser.followers[group.rule]:
                if candidate.regex.search(content):
                    if group.parts and not group.parts[-1].endswith("\n"):
                        self._append(group, "\n")
                    self._append(group, content or "\n")
                    rule = candidate
                    break
        if rule is None:
            for candidate in parser.start_rules:
                if candidate.regex.search(content):
                    if group.parts:
                        self._emit(group, out)
                    self._open(group, when, record)
                    self._append(group, content)
                    rule = candidate
                    break
        if rule is None:
            return False
        group.rule = rule
        if rule in parser.closing:
            self._emit(group, out)
        return True

    # -- group bookkeeping ------------------------------------------------------
    @staticmethod
    def _open(group: _Group, when: int, record: dict[str, Any]) -> None:
        group.record = record
        group.time = when

    @staticmethod
    def _append(group: _Group, text: str) -> None:
        group.parts.append(text)
        group.size += len(text)
        group.touched = time.monotonic()

    def _emit(self, group: _Group, out: list[Event]) -> None:
        if group.parts:
            record = dict(group.record) if group.record is not None else {}
            record[self.key] = "".join(group.parts)
            out.append((group.time, record))
        group.parts = []
        group.size = 0
        group.rule = None
        group.record = None
