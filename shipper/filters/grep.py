"""``grep``: keep or drop records by regexes on record fields (golden cases 24, 25).

``Regex KEY REGEX`` and ``Exclude KEY REGEX`` (KEY a field name or record
accessor ``$a['b']``; the regex is the rest of the line, Onigmo syntax).
Regexes only match string values: a missing key, a number or a map never
matches.

Without ``Logical_Op`` (Fluent Bit's "legacy" mode) the rules run in config
order: a matching ``Regex`` keeps the record at once, a non-matching
``Regex`` drops it, a matching ``Exclude`` drops it; a record that passes
every rule is kept.  With ``Logical_Op AND|OR`` all rules must be of one
kind: ``Regex`` keeps records where all/any match, ``Exclude`` drops records
where all/any match.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shipper.accessor import MISSING, compile_accessor, string_search
from shipper.errors import ConfigError
from shipper.events import Event
from shipper.options import Option, Settings
from shipper.parsers.onigmo import RegexError, compile_onigmo
from shipper.plugin import Context, Filter
from shipper.registry import register

Predicate = Callable[[dict[str, Any]], bool]


def _field_test(key: str, regex: str) -> Predicate:
    """record -> does the field at ``key`` (a string) contain a match of ``regex``."""
    matches = string_search(compile_onigmo(regex))
    accessor = compile_accessor(key)
    if not accessor.path:
        field = accessor.key
        return lambda record: matches(record.get(field, MISSING))
    get = accessor.get
    return lambda record: matches(get(record))


def _legacy(rules: list[tuple[bool, Predicate]]) -> Predicate:
    if len(rules) == 1:
        is_regex, test = rules[0]
        return test if is_regex else (lambda record: not test(record))

    def keep(record: dict[str, Any]) -> bool:
        for is_regex, test in rules:
            if test(record):
                return is_regex
            if is_regex:
                return False
        return True

    return keep


@register
class GrepFilter(Filter):
    name = "grep"
    summary = "keep or drop records by regex on a field"
    options = (
        Option("regex", repeatable=True, help="KEY REGEX: keep records whose KEY matches"),
        Option("exclude", repeatable=True, help="KEY REGEX: drop records whose KEY matches"),
        Option("logical_op", default="legacy", choices=("legacy", "and", "or"), help="how several rules combine"),
    )

    def __init__(self, settings: Settings, context: Context) -> None:
        super().__init__(settings, context)
        rules: list[tuple[bool, Predicate]] = []
        for prop in settings.ordered(("regex", "exclude")):
            key, _, regex = prop.value.strip().partition(" ")
            regex = regex.strip()
            if not key or not regex:
                raise ConfigError(f"grep: {prop.key} needs 'KEY REGEX', got {prop.value!r}", prop.location)
            try:
                rules.append((prop.key.lower() == "regex", _field_test(key, regex)))
            except RegexError as exc:
                raise ConfigError(f"grep: {prop.key} regex {regex!r}: {exc}", prop.location) from None
        if not rules:
            raise ConfigError("grep: no Regex or Exclude rule", settings.location)
        op = settings["logical_op"].lower()
        kinds = {is_regex for is_regex, _ in rules}
        if op != "legacy" and len(kinds) > 1:
            raise ConfigError(
                f"grep: Logical_Op {settings['logical_op']} cannot mix Regex and Exclude rules",
                settings.where("logical_op"),
            )
        tests = [test for _, test in rules]
        if op == "legacy":
            self.keep = _legacy(rules)
        elif kinds == {True}:
            self.keep = (lambda r: all(t(r) for t in tests)) if op == "and" else (lambda r: any(t(r) for t in tests))
        elif op == "and":
            self.keep = lambda r: not all(t(r) for t in tests)
        else:
            self.keep = lambda r: not any(t(r) for t in tests)

    async def process(self, tag: str, events: list[Event]) -> list[Event]:
        keep = self.keep
        return [event for event in events if keep(event[1])]
