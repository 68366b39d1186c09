"""Payload matchers of ``shipper test``: equals, contains, matches, absent.

Each returns the problems it found as text (empty when the payload matches),
with a unified diff of what was expected against what the output would send,
so a failing CI job shows the difference without a rerun.
"""

from __future__ import annotations

import difflib
from typing import Any

import orjson

from shipper.accessor import MISSING
from shipper.testing.spec import PayloadMatch

_NOT_JSON = object()


def pretty(value: Any) -> str:
    """Stable, indented JSON (keys sorted) so diffs line up."""
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()


def diff(expected: str, actual: str, label: str) -> list[str]:
    """A unified diff, ``-`` lines expected and ``+`` lines what would be sent."""
    lines = difflib.unified_diff(
        expected.splitlines(), actual.splitlines(), f"expected ({label})", "would send", lineterm="", n=2
    )
    return list(lines)


def is_subset(expected: Any, actual: Any) -> bool:
    """``contains``: every key of an expected map is in the actual one, recursively; lists compare item by item."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and is_subset(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list):
        return (isinstance(actual, list) and len(actual) == len(expected)
                and all(is_subset(e, a) for e, a in zip(expected, actual, strict=True)))
    return bool(expected == actual and type(expected) is type(actual)) or _same_number(expected, actual)


def _same_number(expected: Any, actual: Any) -> bool:
    numbers = (int, float)
    return (isinstance(expected, numbers) and isinstance(actual, numbers)
            and not isinstance(expected, bool) and not isinstance(actual, bool) and expected == actual)


def project(actual: Any, expected: Any) -> Any:
    """The part of ``actual`` that ``expected`` talks about, so a ``contains`` diff shows only that."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        return {k: project(actual[k], v) for k, v in expected.items() if k in actual}
    if isinstance(expected, list) and isinstance(actual, list):
        return [project(a, e) for a, e in zip(actual, expected, strict=False)] + actual[len(expected):]
    return actual


def mismatched_keys(match: PayloadMatch, text: str) -> set[str]:
    """Top-level keys where the payload breaks ``equals``, ``contains`` or ``absent``, to name who changed them."""
    try:
        parsed = orjson.loads(text)
    except orjson.JSONDecodeError:
        return set()
    if not isinstance(parsed, dict):
        return set()
    keys = {accessor.key for _, accessor in match.absent if accessor.get(parsed) is not MISSING}
    if match.has_contains and isinstance(match.contains, dict):
        keys |= {k for k, v in match.contains.items() if k not in parsed or not is_subset(v, parsed[k])}
    if match.has_equals and isinstance(match.equals, dict):
        keys |= {k for k in match.equals.keys() | parsed.keys() if match.equals.get(k, _NOT_JSON) != parsed.get(k, _NOT_JSON)}
    return keys


def check_payload(match: PayloadMatch, text: str) -> list[str]:
    """The ways ``text`` (one rendered payload) breaks ``match``."""
    problems: list[str] = []
    try:
        parsed: Any = orjson.loads(text)
    except orjson.JSONDecodeError:
        parsed = _NOT_JSON
    if match.has_equals:
        if isinstance(match.equals, str) and (parsed is _NOT_JSON or not isinstance(parsed, str)):
            if text != match.equals:
                problems += ["payload differs (equals):", *diff(match.equals, text, "equals")]
        elif parsed is _NOT_JSON:
            problems.append(f"payload is not JSON, so it cannot equal a structure: {text!r}")
        elif parsed != match.equals:
            problems += ["payload differs (equals):", *diff(pretty(match.equals), pretty(parsed), "equals")]
    if match.has_contains:
        if parsed is _NOT_JSON:
            problems.append(f"payload is not JSON, so it cannot contain a structure: {text!r}")
        elif not is_subset(match.contains, parsed):
            problems += ["payload differs (contains):",
                         *diff(pretty(match.contains), pretty(project(parsed, match.contains)), "contains")]
    if match.regex is not None and match.regex.search(text) is None:
        problems.append(f"payload does not match /{match.regex.pattern}/: {text}")
    for key, accessor in match.absent:
        if parsed is _NOT_JSON or not isinstance(parsed, dict):
            problems.append(f"payload is not a JSON object, so key {key!r} cannot be checked: {text!r}")
            break
        value = accessor.get(parsed)
        if value is not MISSING:
            problems.append(f"payload has {key!r} (expected absent): {orjson.dumps(value).decode()}")
    return problems
