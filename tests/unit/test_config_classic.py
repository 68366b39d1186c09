"""The classic reader follows Fluent Bit's rules and reports every problem as file:line."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from shipper.config.loader import load_config
from shipper.config.model import ConfigDocument
from shipper.errors import ConfigErrors


def write(root: Path, files: dict[str, str]) -> Path:
    """Write dedented files under ``root``; returns the first one's path."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root / next(iter(files))


def shape(document: ConfigDocument) -> list[tuple[str, list[tuple[str, str]]]]:
    return [(s.kind, [(p.key, p.value) for p in s.properties]) for s in document.sections]


def messages(document: ConfigDocument) -> list[str]:
    return [str(e) for e in document.errors]


def load(path: Path, **env: str) -> ConfigDocument:
    return load_config(str(path), environ=env)


def test_sections_properties_and_locations(tmp_path):
    main = write(
        tmp_path,
        {
            "f.conf": """\
                # a comment at line start
                [SERVICE]
                    Flush   1
                [INPUTS]
                    Name    dummy
                    Dummy   {"a": 1}   # not a comment: kept in the value
                    # an indented comment line
                [filter]
                    Name    grep
                    Regex   log  ^a b$
                [Outputs]
                    NAME    stdout
                """
        },
    )
    document = load(main)
    assert messages(document) == []
    assert shape(document) == [
        ("service", [("Flush", "1")]),
        ("input", [("Name", "dummy"), ("Dummy", '{"a": 1}   # not a comment: kept in the value')]),
        ("filter", [("Name", "grep"), ("Regex", "log  ^a b$")]),
        ("output", [("NAME", "stdout")]),
    ]
    assert document.outputs[0].plugin_name == "stdout"
    assert str(document.inputs[0].location) == f"{main}:4"
    assert str(document.filters[0].properties[1].location) == f"{main}:10"
    assert document.files == [str(main)]


def test_tabs_and_crlf_are_accepted(tmp_path):
    main = tmp_path / "f.conf"
    main.write_bytes(b"[INPUT]\r\n\tName\tdummy\r\n\tTag  t \r\n")
    document = load(main)
    assert messages(document) == []
    assert shape(document) == [("input", [("Name", "dummy"), ("Tag", "t")])]


def test_key_without_value_is_an_error(tmp_path):
    main = write(tmp_path, {"f.conf": "[INPUT]\n    Name dummy\n    Tag\n"})
    assert messages(load(main)) == [f"{main}:3: key 'Tag' has no value"]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("  Tag t", "is indented too little (2 spaces)"),
        ("      Tag t", "has extra indentation (6 spaces)"),
        ("\t    Tag t", "mixes tabs and spaces"),
    ],
)
def test_indentation_must_match_the_first_indented_line(tmp_path, line, problem):
    main = write(tmp_path, {"f.conf": f"[INPUT]\n    Name dummy\n{line}\n"})
    errors = messages(load(main))
    assert len(errors) == 1
    assert errors[0].startswith(f"{main}:3: invalid indentation: this line {problem}")
    assert f"this file's indentation is 4 spaces, set by its first indented line ({main}:2)" in errors[0]


def test_double_indentation_is_accepted_as_fluent_bit_does(tmp_path):
    main = write(tmp_path, {"f.conf": "[INPUT]\n  Name dummy\n    Tag t\n"})
    document = load(main)
    assert messages(document) == []
    assert shape(document) == [("input", [("Name", "dummy"), ("Tag", "t")])]


def test_unindented_key_is_an_error(tmp_path):
    main = write(tmp_path, {"f.conf": "[INPUT]\nName dummy\n"})
    errors = messages(load(main))
    assert errors == [f"{main}:2: 'Name' must be indented under its section header (Fluent Bit requires the keys of a section to be indented)"]


def test_indentation_is_per_file(tmp_path):
    main = write(
        tmp_path,
        {"main.conf": "@INCLUDE two.conf\n[INPUT]\n    Name dummy\n", "two.conf": "[OUTPUT]\n  Name stdout\n"},
    )
    document = load(main)
    assert messages(document) == []
    assert [s.kind for s in document.sections] == ["output", "input"]


def test_parser_section_in_main_file_is_an_error(tmp_path):
    main = write(tmp_path, {"f.conf": "[INPUT]\n    Name dummy\n[PARSER]\n    Name p\n    Format json\n"})
    document = load(main)
    assert document.parsers == []
    (error,) = messages(document)
    assert error.startswith(f"{main}:3: [PARSER] is not valid in the main configuration")
    assert "Parsers_File" in error


def test_unknown_section_and_directive(tmp_path):
    main = write(tmp_path, {"f.conf": "[INPTU]\n    Name dummy\n[CUSTOM]\n    Name x\n@FOO bar\n"})
    assert messages(load(main)) == [
        f"{main}:1: unknown section [INPTU] (did you mean 'input'?)",
        f"{main}:3: section [CUSTOM] exists in Fluent Bit but shipper does not support it",
        f"{main}:5: unknown directive '@FOO' (Fluent Bit knows @INCLUDE and @SET)",
    ]


def test_property_outside_a_section(tmp_path):
    main = write(tmp_path, {"f.conf": "    Name dummy\n[INPUT]\n    Name dummy\n"})
    assert messages(load(main)) == [f"{main}:1: 'Name' is outside of any section (add [INPUT], [OUTPUT], ... above it)"]


def test_header_without_closing_bracket(tmp_path):
    main = write(tmp_path, {"f.conf": "[INPUT\n    Name dummy\n"})
    assert messages(load(main)) == [f"{main}:1: bad section header '[INPUT': missing ']'"]


def test_set_applies_before_everything_and_wins_over_the_environment(tmp_path):
    main = write(
        tmp_path,
        {
            "f.conf": """\
                [INPUT]
                    Name dummy
                    Tag  ${TAG}.${FROM_ENV}
                @SET TAG=early
                @INCLUDE more.conf
                """,
            "more.conf": "@SET TAG = set-in-include\n",
        },
    )
    document = load(main, TAG="from-env", FROM_ENV="env")
    assert messages(document) == []
    assert document.inputs[0].get("tag") == "set-in-include.env"
    assert document.variables == {"TAG": "set-in-include"}


def test_unset_variable_becomes_empty_with_a_warning(tmp_path):
    main = write(tmp_path, {"f.conf": "[OUTPUT]\n    Name stdout\n    Match a${MISSING}b\n"})
    document = load(main)
    assert document.outputs[0].get("match") == "ab"
    assert [str(w) for w in document.warnings] == [
        f"{main}:3: variable ${{MISSING}} is not set (no @SET, env or environment variable); using an empty value"
    ]


def test_bad_set_directive(tmp_path):
    main = write(tmp_path, {"f.conf": "@SET NOVALUE\n"})
    assert messages(load(main)) == [f"{main}:1: @SET needs KEY=VALUE, got 'NOVALUE'"]


def test_include_relative_to_including_file_then_main_dir(tmp_path):
    main = write(
        tmp_path,
        {
            "main.conf": "@INCLUDE sub/a.conf\n",
            "sub/a.conf": "@INCLUDE b.conf\n@INCLUDE c.conf\n",
            "sub/b.conf": "[INPUT]\n    Name dummy\n",  # next to the including file
            "c.conf": "[OUTPUT]\n    Name stdout\n",  # only next to the main file
        },
    )
    document = load(main)
    assert messages(document) == []
    assert [s.kind for s in document.sections] == ["input", "output"]
    assert document.outputs[0].location.file == str(tmp_path / "c.conf")


def test_include_glob_reads_matches_in_order(tmp_path):
    main = write(
        tmp_path,
        {
            "main.conf": "@include conf.d/*.conf\n",
            "conf.d/20-out.conf": "[OUTPUT]\n    Name stdout\n",
            "conf.d/10-in.conf": "[INPUT]\n    Name dummy\n",
            "conf.d/ignored.txt": "[FILTER]\n    Name grep\n",
        },
    )
    document = load(main)
    assert messages(document) == []
    assert [s.kind for s in document.sections] == ["input", "output"]


def test_missing_include_and_empty_glob(tmp_path):
    main = write(tmp_path, {"main.conf": "[INPUT]\n    Name dummy\n@INCLUDE nope.conf\n@INCLUDE none/*.conf\n"})
    errors = messages(load(main))
    assert len(errors) == 2
    assert errors[0].startswith(f"{main}:3: @INCLUDE nope.conf: file not found (looked in {tmp_path}")
    assert errors[1].startswith(f"{main}:4: @INCLUDE none/*.conf: no file matches")


def test_a_missing_absolute_include_says_only_that(tmp_path):
    main = write(tmp_path, {"main.conf": f"@INCLUDE {tmp_path}/gone.conf\n@INCLUDE {tmp_path}/gone/*.conf\n"})
    assert messages(load(main)) == [
        f"{main}:1: @INCLUDE {tmp_path}/gone.conf: file not found",
        f"{main}:2: @INCLUDE {tmp_path}/gone/*.conf: no file matches",
    ]


def test_include_cycle_and_twice(tmp_path):
    main = write(
        tmp_path,
        {
            "main.conf": "@INCLUDE a.conf\n@INCLUDE b.conf\n",
            "a.conf": "[INPUT]\n    Name dummy\n@INCLUDE b.conf\n",
            "b.conf": "@INCLUDE a.conf\n",
        },
    )
    errors = messages(load(main))
    a, b = tmp_path / "a.conf", tmp_path / "b.conf"
    assert errors == [
        f"{b}:1: include cycle: {a} -> {b} -> {a}",
        f"{main}:2: {b} is included twice (first included at {a}:3); Fluent Bit refuses this too",
    ]


def test_main_file_including_itself(tmp_path):
    main = write(tmp_path, {"main.conf": "@INCLUDE main.conf\n"})
    assert messages(load(main)) == [f"{main}:1: include cycle: {main} -> {main}"]


def test_missing_main_file_raises(tmp_path):
    with pytest.raises(ConfigErrors) as raised:
        load_config(str(tmp_path / "absent.conf"))
    assert str(raised.value.errors[0]).startswith(f"{tmp_path / 'absent.conf'}: cannot read configuration")


def test_parsers_file_working_dir_first_then_main_dir(tmp_path, monkeypatch):
    main = write(
        tmp_path,
        {
            "etc/main.conf": "[SERVICE]\n    Parsers_File parsers.conf\n    Parsers_File ${P2}\n",
            "etc/parsers.conf": "[PARSER]\n    Name from_main_dir\n    Format json\n",
            "etc/second.conf": "[PARSER]\n    Name second\n    Format json\n",
            "cwd/parsers.conf": "[PARSER]\n    Name from_cwd\n    Format json\n",
        },
    )
    monkeypatch.chdir(tmp_path / "cwd")
    document = load(main, P2="second.conf")
    assert messages(document) == []
    assert [s.get("name") for s in document.parsers] == ["from_cwd", "second"]
    monkeypatch.chdir(tmp_path)
    assert [s.get("name") for s in load(main, P2="second.conf").parsers] == ["from_main_dir", "second"]


def test_parsers_file_holds_parsers_and_multiline_rules_raw(tmp_path):
    main = write(
        tmp_path,
        {
            "main.conf": "[SERVICE]\n    Parsers_File p.conf\n",
            "p.conf": """\
                [PARSER]
                    Name   j
                    Format json
                [MULTILINE_PARSER]
                    name          bracket
                    type          regex
                    # rules: state name, regex, next state
                    rule          "start_state"  "/^\\[\\d{4}/"  "cont"
                    rule          "cont"         "/^\\s+/"       "cont"
                [INPUT]
                    Name dummy
                """,
        },
    )
    document = load(main)
    assert messages(document) == []
    (multiline,) = document.multiline_parsers
    rules = [p.value for p in multiline.properties if p.key == "rule"]
    assert rules == ['"start_state"  "/^\\[\\d{4}/"  "cont"', '"cont"         "/^\\s+/"       "cont"']
    assert document.inputs == []
    assert [str(w) for w in document.warnings] == [
        f"{tmp_path / 'p.conf'}:10: [INPUT] in a parsers file is ignored (only [PARSER] and [MULTILINE_PARSER] are read)"
    ]


def test_missing_parsers_file_and_extra_parsers_files(tmp_path):
    main = write(
        tmp_path,
        {"main.conf": "[SERVICE]\n    Parsers_File nope.conf\n", "extra.conf": "[PARSER]\n    Name x\n    Format json\n"},
    )
    document = load_config(str(main), [str(tmp_path / "extra.conf"), str(tmp_path / "gone.conf")], environ={})
    assert [s.get("name") for s in document.parsers] == ["x"]
    errors = messages(document)
    assert errors[0].startswith(f"{main}:2: Parsers_File nope.conf: file not found")
    assert errors[1] == f"{tmp_path / 'gone.conf'}: parsers file {tmp_path / 'gone.conf'} (-R) not found"


def test_empty_section_warns(tmp_path):
    main = write(tmp_path, {"f.conf": "[INPUT]\n[OUTPUT]\n    Name stdout\n"})
    document = load(main)
    assert messages(document) == []
    assert [str(w) for w in document.warnings] == [f"{main}:1: [INPUT] section has no keys"]


def test_relative_main_path_resolves_includes(tmp_path, monkeypatch):
    write(tmp_path, {"d/main.conf": "@INCLUDE in.conf\n", "d/in.conf": "[INPUT]\n    Name dummy\n"})
    monkeypatch.chdir(tmp_path)
    document = load(Path("d") / "main.conf")
    assert messages(document) == []
    assert document.inputs[0].location.file == os.path.join("d", "in.conf")


def test_directives_accept_a_tab_and_any_case(tmp_path):
    main = write(tmp_path, {"main.conf": "@include\tin.conf\n@set  A=x\ty\n", "in.conf": "[INPUT]\n    Name ${A}\n"})
    document = load(main)
    assert messages(document) == []
    assert document.inputs[0].get("name") == "x\ty"
