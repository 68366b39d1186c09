"""Reading ``shipper test`` files: YAML test cases for one pipeline config.

A file holds ``tests:``, a list of cases, and may give a ``now:`` every case
inherits.  A case feeds either log ``lines`` under the ``path`` a tail input
would see, or ``records`` under a ``tag``, optionally with ``kube_meta`` (the
pods the API server would describe), and ``expect``\\ s what each named output
would send.  Everything is checked here, before any case runs, so a typo in a
test file is reported with its file and line rather than as a failing case.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from shipper.accessor import Accessor, compile_accessor

CASE_KEYS = {"name", "input", "kube_meta", "expect", "now"}
EXPECT_KEYS = {"output", "count", "refused", "tag", "destination", "payload"}
PAYLOAD_KEYS = {"equals", "contains", "matches", "absent"}
LINES_KEYS = {"path", "lines"}
RECORDS_KEYS = {"tag", "records", "time"}


class SpecError(Exception):
    """A test file, or one case in it, does not have the documented shape."""


@dataclass(frozen=True)
class TextMatch:
    """A string expectation: exact text, or a regex searched in it."""

    equals: str | None = None
    regex: re.Pattern[str] | None = None

    def check(self, value: str) -> bool:
        if self.regex is not None:
            return self.regex.search(value) is not None
        return value == self.equals

    def __str__(self) -> str:
        return f"matches /{self.regex.pattern}/" if self.regex is not None else repr(self.equals)


@dataclass(frozen=True)
class PayloadMatch:
    """Matchers on the payload an output would send (all given ones must hold)."""

    equals: Any = None
    has_equals: bool = False
    contains: Any = None
    has_contains: bool = False
    regex: re.Pattern[str] | None = None
    absent: tuple[tuple[str, Accessor], ...] = ()


@dataclass(frozen=True)
class Expect:
    """What one output would send for the case."""

    output: str
    count: int | None = None
    refused: int | None = None
    tag: TextMatch | None = None
    destination: dict[str, TextMatch] = field(default_factory=dict)
    payload: PayloadMatch | None = None


@dataclass(frozen=True)
class LinesInput:
    """Raw log lines, read by the tail inputs whose ``Path`` matches ``path``."""

    path: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class RecordsInput:
    """Records handed to the filter chain under ``tag``, stamped ``time_ns`` (default: the case's now)."""

    tag: str
    records: tuple[dict[str, Any], ...]
    time_ns: int | None = None


@dataclass(frozen=True)
class Case:
    name: str
    line: int
    input: LinesInput | RecordsInput
    expects: tuple[Expect, ...]
    kube_meta: tuple[dict[str, Any], ...] = ()
    now_ns: int | None = None


@dataclass(frozen=True)
class TestFile:
    path: Path
    cases: tuple[Case, ...]


def parse_time(value: Any, what: str) -> int:
    """Nanoseconds since the epoch from an RFC 3339 time (YAML may already have made it a datetime) or a number."""
    if isinstance(value, bool):
        raise SpecError(f"{what}: expected a time, got {value!r}")
    if isinstance(value, (int, float)):
        return int(value * 1_000_000_000)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        text = value.strip()
        try:
            value = dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
        except ValueError:
            raise SpecError(f"{what}: {value!r} is not an RFC 3339 time such as 2026-12-07T10:00:00Z") from None
    if not isinstance(value, dt.datetime):
        raise SpecError(f"{what}: expected a time, got {value!r}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return int(value.timestamp()) * 1_000_000_000 + value.microsecond * 1000


def _mapping(value: Any, what: str, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SpecError(f"{what}: expected a mapping, got {type(value).__name__}")
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        raise SpecError(f"{what}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
    return value


def _regex(pattern: Any, what: str) -> re.Pattern[str]:
    if not isinstance(pattern, str):
        raise SpecError(f"{what}: expected a regex string, got {pattern!r}")
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise SpecError(f"{what}: invalid regex {pattern!r}: {exc}") from None


def _text_match(value: Any, what: str) -> TextMatch:
    if isinstance(value, dict):
        spec = _mapping(value, what, {"equals", "matches"})
        if len(spec) != 1:
            raise SpecError(f"{what}: give one of equals or matches")
        if "matches" in spec:
            return TextMatch(regex=_regex(spec["matches"], f"{what}.matches"))
        value = spec["equals"]
    if isinstance(value, (dict, list)) or value is None:
        raise SpecError(f"{what}: expected a string or {{matches: REGEX}}, got {value!r}")
    return TextMatch(equals=str(value))


def _count(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SpecError(f"{what}: expected a whole number >= 0, got {value!r}")
    return value


def _payload(value: Any, what: str) -> PayloadMatch:
    spec = _mapping(value, what, PAYLOAD_KEYS)
    if not spec:
        raise SpecError(f"{what}: give at least one of {', '.join(sorted(PAYLOAD_KEYS))}")
    absent = spec.get("absent", [])
    if isinstance(absent, str):
        absent = [absent]
    if not isinstance(absent, list) or not all(isinstance(k, str) for k in absent):
        raise SpecError(f"{what}.absent: expected a list of keys (a name, or an accessor like $kubernetes['labels'])")
    return PayloadMatch(
        equals=spec.get("equals"),
        has_equals="equals" in spec,
        contains=spec.get("contains"),
        has_contains="contains" in spec,
        regex=_regex(spec["matches"], f"{what}.matches") if "matches" in spec else None,
        absent=tuple((key, compile_accessor(key)) for key in absent),
    )


def _expect(value: Any, what: str) -> Expect:
    spec = _mapping(value, what, EXPECT_KEYS)
    output = spec.get("output")
    if not isinstance(output, str) or not output:
        raise SpecError(f"{what}: 'output' (the output's name as `shipper check` prints it, or its Alias) is required")
    destination = spec.get("destination") or {}
    if not isinstance(destination, dict):
        raise SpecError(f"{what}.destination: expected a mapping such as {{log_group: /app}}")
    return Expect(
        output=output,
        count=_count(spec.get("count"), f"{what}.count"),
        refused=_count(spec.get("refused"), f"{what}.refused"),
        tag=_text_match(spec["tag"], f"{what}.tag") if "tag" in spec else None,
        destination={str(k): _text_match(v, f"{what}.destination.{k}") for k, v in destination.items()},
        payload=_payload(spec["payload"], f"{what}.payload") if "payload" in spec else None,
    )


def _input(value: Any, what: str) -> LinesInput | RecordsInput:
    if not isinstance(value, dict):
        raise SpecError(f"{what}: expected a mapping with path and lines, or tag and records")
    if "records" in value:
        spec = _mapping(value, what, RECORDS_KEYS)
        tag, records = spec.get("tag"), spec["records"]
        if not isinstance(tag, str) or not tag:
            raise SpecError(f"{what}: 'tag' is required with records")
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise SpecError(f"{what}.records: expected a list of mappings (one record each)")
        time_ns = parse_time(spec["time"], f"{what}.time") if "time" in spec else None
        return RecordsInput(tag, tuple(records), time_ns)
    spec = _mapping(value, what, LINES_KEYS)
    path, lines = spec.get("path"), spec.get("lines")
    if not isinstance(path, str) or not path.startswith("/"):
        raise SpecError(f"{what}: 'path' must be the absolute path a tail input would read, got {path!r}")
    if isinstance(lines, str):
        lines = lines.splitlines()
    if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
        raise SpecError(f"{what}.lines: expected a list of strings (quote lines that YAML would read otherwise)")
    return LinesInput(path, tuple(lines))


def _kube_meta(value: Any, what: str) -> tuple[dict[str, Any], ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(item, dict) for item in items):
        raise SpecError(f"{what}: expected a mapping (or a list of them), one per pod")
    return tuple(items)


def _case(value: Any, index: int, line: int, default_now: int | None) -> Case:
    what = f"line {line}: tests[{index}]"
    spec = _mapping(value, what, CASE_KEYS)
    name = spec.get("name")
    if not isinstance(name, str) or not name:
        raise SpecError(f"{what}: 'name' is required")
    what = f"line {line}: test {name!r}"
    if "input" not in spec:
        raise SpecError(f"{what}: 'input' is required")
    expects = spec.get("expect")
    if not isinstance(expects, list) or not expects:
        raise SpecError(f"{what}: 'expect' must list at least one output expectation")
    return Case(
        name=name,
        line=line,
        input=_input(spec["input"], f"{what}: input"),
        expects=tuple(_expect(e, f"{what}: expect[{i}]") for i, e in enumerate(expects)),
        kube_meta=_kube_meta(spec.get("kube_meta"), f"{what}: kube_meta"),
        now_ns=parse_time(spec["now"], f"{what}: now") if "now" in spec else default_now,
    )


def _case_lines(text: str) -> list[int]:
    """The 1-based line where each item of ``tests:`` starts, for messages and JUnit."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, node in root.value:
        if key.value == "tests" and isinstance(node, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in node.value]
    return []


def load_test_file(path: Path) -> TestFile:
    """Read and check one test file; raises SpecError naming the file and what is wrong."""
    try:
        text = path.read_text()
        data = yaml.safe_load(text)
        lines = _case_lines(text)
    except OSError as exc:
        raise SpecError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: not valid YAML: {exc}") from None
    try:
        spec = _mapping(data, "top level", {"tests", "now"})
        cases = spec.get("tests")
        if not isinstance(cases, list) or not cases:
            raise SpecError("'tests' must list at least one case")
        default_now = parse_time(spec["now"], "now") if "now" in spec else None
        parsed = tuple(
            _case(case, i, lines[i] if i < len(lines) else 0, default_now) for i, case in enumerate(cases)
        )
    except SpecError as exc:
        raise SpecError(f"{path}: {exc}") from None
    names = [c.name for c in parsed]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise SpecError(f"{path}: test names must be unique; repeated: {', '.join(duplicated)}")
    return TestFile(path, parsed)
