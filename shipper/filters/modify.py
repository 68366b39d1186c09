"""``modify``: change keys of records that meet every ``Condition`` (golden cases 26, 27).

Rules run in config order on each record:

- ``Set KEY VALUE`` (an existing KEY is removed and appended at the end),
  ``Add KEY VALUE`` (only when KEY is absent);
- ``Remove KEY``, ``Remove_wildcard PREFIX`` (keys starting with PREFIX; a
  trailing ``*`` is allowed), ``Remove_regex REGEX`` (case-sensitive);
- ``Rename A B`` (in place, only when B is absent), ``Hard_rename A B``
  (replaces B); ``Copy A B`` (B inserted right after A, only when B is absent),
  ``Hard_copy A B`` (replaces B);
- ``Move_to_start PREFIX`` / ``Move_to_end PREFIX`` move every key starting
  with PREFIX, keeping their order.

Conditions (all must hold; keys may be record accessors): ``Key_exists``,
``Key_does_not_exist``, ``A_key_matches``, ``No_key_matches``,
``Key_value_equals``, ``Key_value_does_not_equal``, ``Key_value_matches``,
``Key_value_does_not_match``, ``Matching_keys_have_matching_values``,
``Matching_keys_do_not_have_matching_values``.  Regexes never match
non-string values; the ``does_not`` kinds are false when the key is missing.

Values with spaces must be quoted (``Set msg "two words"``).  Fluent Bit reads
an unquoted ``Set msg two words`` as a *rename* of ``msg`` to ``words``;
shipper refuses it at ``check`` time instead of corrupting records.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from shipper.accessor import MISSING, compile_accessor, split_words, string_search
from shipper.errors import ConfigError
from shipper.events import Event
from shipper.options import Option, Property, Settings
from shipper.parsers.onigmo import RegexError, compile_onigmo
from shipper.plugin import Context, Filter
from shipper.registry import register

Record = dict[str, Any]
Op = Callable[[Record], Record]
Test = Callable[[Record], bool]

#: rule name -> number of arguments
RULES = {
    "set": 2,
    "add": 2,
    "remove": 1,
    "remove_wildcard": 1,
    "remove_regex": 1,
    "rename": 2,
    "hard_rename": 2,
    "copy": 2,
    "hard_copy": 2,
    "move_to_start": 1,
    "move_to_end": 1,
}
CONDITIONS = {
    "key_exists": 1,
    "key_does_not_exist": 1,
    "a_key_matches": 1,
    "no_key_matches": 1,
    "key_value_equals": 2,
    "key_value_does_not_equal": 2,
    "key_value_matches": 2,
    "key_value_does_not_match": 2,
    "matching_keys_have_matching_values": 2,
    "matching_keys_do_not_have_matching_values": 2,
}
#: rules that only change a record in place (the others build a new dict to keep key order)
IN_PLACE = frozenset({"set", "add", "remove", "remove_wildcard", "remove_regex"})


def _prefix(pattern: str) -> str:
    return pattern[:-1] if pattern.endswith("*") else pattern


def _set(key: str, value: str) -> Op:
    def op(record: Record) -> Record:
        record.pop(key, None)
        record[key] = value
        return record

    return op


def _add(key: str, value: str) -> Op:
    def op(record: Record) -> Record:
        if key not in record:
            record[key] = value
        return record

    return op


def _remove_where(test: Callable[[str], bool]) -> Op:
    def op(record: Record) -> Record:
        for key in [k for k in record if test(k)]:
            del record[key]
        return record

    return op


def _remove(key: str) -> Op:
    def op(record: Record) -> Record:
        record.pop(key, None)
        return record

    return op


def _rename(old: str, new: str, hard: bool) -> Op:
    def op(record: Record) -> Record:
        if old not in record or old == new or (not hard and new in record):
            return record
        if next(reversed(record)) == old and new not in record:
            record[new] = record.pop(old)  # the last key: renaming in place keeps the order
            return record
        return {(new if k == old else k): v for k, v in record.items() if k != new}

    return op


def _copy(source: str, target: str, hard: bool) -> Op:
    def op(record: Record) -> Record:
        if source not in record or source == target or (not hard and target in record):
            return record
        out: Record = {}
        for key, value in record.items():
            if key == target:
                continue
            out[key] = value
            if key == source:
                out[target] = copy.deepcopy(value) if isinstance(value, (dict, list)) else value
        return out

    return op


def _move(prefix: str, to_start: bool) -> Op:
    def op(record: Record) -> Record:
        moved = {k: v for k, v in record.items() if k.startswith(prefix)}
        if not moved:
            return record
        rest = {k: v for k, v in record.items() if not k.startswith(prefix)}
        return {**moved, **rest} if to_start else {**rest, **moved}

    return op


def _regex(text: str, location: Any) -> Callable[[Any], bool]:
    try:
        return string_search(compile_onigmo(text))
    except RegexError as exc:
        raise ConfigError(f"modify: regex {text!r}: {exc}", location) from None


def build_rule(name: str, args: list[str], location: Any) -> Op:
    """One rule line -> an operation on a record."""
    if name == "set":
        return _set(*args)
    if name == "add":
        return _add(*args)
    if name == "remove":
        return _remove(args[0])
    if name == "remove_wildcard":
        prefix = _prefix(args[0])
        return _remove_where(lambda key: key.startswith(prefix))
    if name == "remove_regex":
        return _remove_where(_regex(args[0], location))
    if name in ("rename", "hard_rename"):
        return _rename(args[0], args[1], hard=name == "hard_rename")
    if name in ("copy", "hard_copy"):
        return _copy(args[0], args[1], hard=name == "hard_copy")
    return _move(_prefix(args[0]), to_start=name == "move_to_start")


def build_condition(name: str, args: list[str], location: Any) -> Test:
    """One ``Condition`` line -> a predicate on a record."""
    if name in ("a_key_matches", "no_key_matches"):
        key_matches = _regex(args[0], location)
        wanted = name == "a_key_matches"
        return lambda record: any(key_matches(k) for k in record) is wanted
    if name.startswith("matching_keys"):
        key_matches, value_matches = _regex(args[0], location), _regex(args[1], location)
        if name == "matching_keys_have_matching_values":
            return lambda record: all(value_matches(v) for k, v in record.items() if key_matches(k))
        return lambda record: any(not value_matches(v) for k, v in record.items() if key_matches(k))
    get = compile_accessor(args[0]).get
    if name == "key_exists":
        return lambda record: get(record) is not MISSING
    if name == "key_does_not_exist":
        return lambda record: get(record) is MISSING
    if name.startswith("key_value_") and name.endswith(("equals", "equal")):
        expected = args[1]
        if name == "key_value_equals":
            return lambda record: get(record) == expected
        return lambda record: (value := get(record)) is not MISSING and value != expected
    value_matches = _regex(args[1], location)
    if name == "key_value_matches":
        return lambda record: value_matches(get(record))
    return lambda record: (value := get(record)) is not MISSING and not value_matches(value)


def _arguments(prop: Property, table: dict[str, int]) -> tuple[str, list[str]]:
    """Split a line into (kind, arguments), checking the count."""
    if prop.key.lower() == "condition":
        words = split_words(prop.value)
        kind = words.pop(0).lower() if words else ""
        if kind not in table:
            raise ConfigError(f"modify: unknown condition {kind!r} ({', '.join(sorted(table))})", prop.location)
        what = f"Condition {kind}"
    else:
        kind, words, what = prop.key.lower(), split_words(prop.value), prop.key
    wanted = table[kind]
    if len(words) != wanted:
        hint = ' (quote a value that has spaces: Set msg "two words")' if len(words) > wanted else ""
        raise ConfigError(
            f"modify: {what} takes {wanted} argument{'s' if wanted > 1 else ''}, got {len(words)}: {prop.value!r}{hint}",
            prop.location,
        )
    return kind, words


@register
class ModifyFilter(Filter):
    name = "modify"
    summary = "set, add, remove, rename, copy and move keys, under conditions"
    options = (
        *(Option(rule, repeatable=True, help=f"{rule} rule ({RULES[rule]} argument(s))") for rule in RULES),
        Option("condition", repeatable=True, help="CONDITION_KIND ARGS: apply the rules only when all hold"),
    )

    def __init__(self, settings: Settings, context: Context) -> None:
        super().__init__(settings, context)
        self.ops: list[Op] = []
        self.in_place = True
        for prop in settings.ordered(RULES):
            kind, args = _arguments(prop, RULES)
            self.ops.append(build_rule(kind, args, prop.location))
            self.in_place = self.in_place and kind in IN_PLACE
        tests = [build_condition(*_arguments(prop, CONDITIONS), prop.location) for prop in settings.ordered(("condition",))]
        self.condition: Test | None = None
        if len(tests) == 1:
            self.condition = tests[0]
        elif tests:
            self.condition = lambda record: all(test(record) for test in tests)

    async def process(self, tag: str, events: list[Event]) -> list[Event]:
        ops, condition = self.ops, self.condition
        if self.in_place:
            for _, record in events:
                if condition is None or condition(record):
                    for op in ops:
                        op(record)
            return events
        out: list[Event] = []
        for ts, record in events:
            if condition is None or condition(record):
                for op in ops:
                    record = op(record)
            out.append((ts, record))
        return out
