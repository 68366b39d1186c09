"""shipper test files: the shapes accepted, and errors that name the file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipper.testing.spec import (
    LinesInput,
    RecordsInput,
    SpecError,
    load_test_file,
    parse_time,
)


def load(tmp_path: Path, text: str):
    path = tmp_path / "t.yaml"
    path.write_text(text)
    return load_test_file(path)


def test_both_input_shapes_matchers_and_clocks(tmp_path: Path) -> None:
    file = load(tmp_path, """
now: 2026-12-07T10:00:00Z
tests:
  - name: lines
    input: {path: /var/log/a.log, lines: ['x', 'y']}
    expect:
      - output: out
        count: 2
        tag: {matches: '^a\\.'}
        destination: {log_group: /g, log_stream: {matches: 's-.*'}}
        payload: {equals: {a: 1}, contains: {b: {c: 2}}, matches: 'x', absent: [log, "$k['l']"]}
  - name: records
    now: '2026-01-01T00:00:00.5+01:00'
    input: {tag: app, time: 1700000000, records: [{a: 1}]}
    kube_meta: [{namespace: n, pod: p}]
    expect: [{output: out, count: 0, refused: 1}]
""")
    lines, records = file.cases
    assert lines.line == 4 and records.line == 12
    assert lines.input == LinesInput("/var/log/a.log", ("x", "y"))
    assert lines.now_ns == parse_time("2026-12-07T10:00:00Z", "now")
    expect = lines.expects[0]
    assert expect.tag is not None and expect.tag.check("a.b") and not expect.tag.check("b.a")
    assert expect.destination["log_group"].check("/g") and expect.destination["log_stream"].check("s-1")
    assert expect.payload is not None and [k for k, _ in expect.payload.absent] == ["log", "$k['l']"]
    assert records.input == RecordsInput("app", ({"a": 1},), 1_700_000_000_000_000_000)
    assert records.now_ns == parse_time("2025-12-31T23:00:00.5Z", "now")
    assert records.kube_meta == ({"namespace": "n", "pod": "p"},)
    assert records.expects[0].refused == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tests: []", "'tests' must list at least one case"),
        ("tests:\n  - name: a\n    expect: [{output: o}]\n", "line 2: test 'a': 'input' is required"),
        ("tests:\n  - name: a\n    input: {path: rel.log, lines: [x]}\n    expect: [{output: o}]\n",
         "'path' must be the absolute path a tail input would read"),
        ("tests:\n  - name: a\n    input: {tag: t, records: [1]}\n    expect: [{output: o}]\n",
         "input.records: expected a list of mappings"),
        ("tests:\n  - name: a\n    input: {tag: t, records: []}\n    expect: [{count: 1}]\n",
         "expect[0]: 'output' (the output's name as `shipper check` prints it, or its Alias) is required"),
        ("tests:\n  - name: a\n    input: {tag: t, records: []}\n    expect: [{output: o, count: -1}]\n",
         "expect[0].count: expected a whole number >= 0, got -1"),
        ("tests:\n  - name: a\n    input: {tag: t, records: []}\n    expect: [{output: o, tag: {matches: '('}}]\n",
         "expect[0].tag.matches: invalid regex '('"),
        ("tests:\n  - name: a\n    now: yesterday\n    input: {tag: t, records: []}\n    expect: [{output: o}]\n",
         "now: 'yesterday' is not an RFC 3339 time"),
        (("tests:\n  - name: a\n    input: {tag: t, records: []}\n    expect: [{output: o}]\n"
         "  - name: a\n    input: {tag: t, records: []}\n    expect: [{output: o}]\n"),
         "test names must be unique; repeated: a"),
        ("tests: [", "not valid YAML"),
    ],
)
def test_mistakes_are_named(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        load(tmp_path, text)
    assert str(caught.value).startswith(str(tmp_path / "t.yaml"))
    assert message in str(caught.value)
