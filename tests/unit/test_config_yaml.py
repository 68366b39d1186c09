"""Fluent Bit's YAML format: sections, lists for repeated keys, rules, includes, env, line numbers."""

from __future__ import annotations

import textwrap

from shipper.config.loader import load_config


def load_yaml(tmp_path, text: str, name: str = "fluent-bit.yaml", **env: str):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path, load_config(str(path), environ=env)


def props(section):
    return [(p.key, p.value, p.location.line) for p in section.properties]


def test_pipeline_service_and_repeated_keys(tmp_path):
    path, document = load_yaml(
        tmp_path,
        """\
        env:
          TAG: from-env-section
        service:
          flush: 1
          http_server: on
        pipeline:
          inputs:
            - name: dummy
              tag: ${TAG}
          filters:
            - name: modify
              match: '*'
              add:
                - k1 v1
                - k2 v2
          outputs:
            - name: stdout
              match: "*"
        """,
        TAG="from-environment",
    )
    assert document.errors == []
    assert [s.kind for s in document.sections] == ["service", "input", "filter", "output"]
    assert props(document.service[0]) == [("flush", "1", 4), ("http_server", "on", 5)]
    assert props(document.inputs[0]) == [("name", "dummy", 8), ("tag", "from-env-section", 9)]
    assert props(document.filters[0]) == [("name", "modify", 11), ("match", "*", 12), ("add", "k1 v1", 14), ("add", "k2 v2", 15)]
    assert document.inputs[0].location.line == 8
    assert document.variables == {"TAG": "from-env-section"}


def test_multiline_rules_become_classic_rule_lines(tmp_path):
    _, document = load_yaml(
        tmp_path,
        """\
        parsers:
          - name: j
            format: json
        multiline_parsers:
          - name: bracket
            type: regex
            flush_timeout: 1000
            rules:
              - state: start_state
                regex: '/^\\[\\d{4}/'
                next_state: cont
              - state: cont
                regex: '/^say "hi"/'
                next_state: cont
        """,
    )
    assert document.errors == []
    assert [s.get("name") for s in document.parsers] == ["j"]
    (multiline,) = document.multiline_parsers
    assert props(multiline)[3:] == [
        ("rule", '"start_state" "/^\\[\\d{4}/" "cont"', 9),
        ("rule", '"cont" "/^say \\"hi\\"/" "cont"', 12),
    ]


def test_includes_are_relative_to_the_including_file(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "out.yaml").write_text("pipeline:\n  outputs:\n    - name: stdout\n      match: '*'\n")
    path, document = load_yaml(tmp_path, "includes:\n  - sub/out.yaml\npipeline:\n  inputs:\n    - name: dummy\n")
    assert document.errors == []
    assert [s.kind for s in document.sections] == ["output", "input"]
    assert str(document.outputs[0].location) == f"{tmp_path / 'sub' / 'out.yaml'}:3"
    assert document.files == [str(path), str(tmp_path / "sub" / "out.yaml")]


def test_yaml_problems_have_lines(tmp_path):
    path, document = load_yaml(
        tmp_path,
        """\
        servce:
          flush: 1
        pipeline:
          inputs:
            - name: dummy
              tag:
              processors:
                logs: []
          output:
            - name: stdout
        customs:
          - name: x
        """,
    )
    assert [str(e) for e in document.errors] == [
        f"{path}:1: unknown top-level key 'servce' (did you mean 'service'?)",
        f"{path}:6: key 'tag' has no value",
        f"{path}:7: inputs: 'processors' are not supported by shipper",
        f"{path}:9: pipeline: unknown key 'output' (did you mean 'outputs'?)",
        f"{path}:11: 'customs' exists in Fluent Bit's YAML but shipper does not support it",
    ]


def test_invalid_yaml_is_an_error_with_a_line(tmp_path):
    path, document = load_yaml(tmp_path, "service:\n  flush: 1\n pipeline: [\n")
    (error,) = document.errors
    assert error.location.file == str(path) and error.location.line >= 3
    assert error.message.startswith("invalid YAML")


def test_yaml_must_be_a_mapping(tmp_path):
    path, document = load_yaml(tmp_path, "- a\n- b\n")
    assert [str(e) for e in document.errors] == [f"{path}:1: a Fluent Bit YAML configuration must be a mapping of sections"]


def test_yaml_parsers_file_from_a_classic_main(tmp_path):
    (tmp_path / "parsers.yaml").write_text(
        "parsers:\n  - name: j\n    format: json\npipeline:\n  inputs:\n    - name: dummy\n"
    )
    main = tmp_path / "main.conf"
    main.write_text("[SERVICE]\n    Parsers_File parsers.yaml\n")
    document = load_config(str(main), environ={})
    assert document.errors == []
    assert [s.get("name") for s in document.parsers] == ["j"]
    assert document.inputs == []
    assert [str(w) for w in document.warnings] == [
        f"{tmp_path / 'parsers.yaml'}:6: [INPUT] in a parsers file is ignored (only [PARSER] and [MULTILINE_PARSER] are read)"
    ]
