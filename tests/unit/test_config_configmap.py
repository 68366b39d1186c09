"""Kubernetes manifests: a ConfigMap's data keys are virtual files named manifest[key]."""

from __future__ import annotations

import textwrap

from shipper.config.loader import load_config

DAEMONSET_MANIFEST = """\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: fluent-bit
  namespace: amazon-cloudwatch
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: fluent-bit-config
  namespace: amazon-cloudwatch
data:
  fluent-bit.conf: |
    [SERVICE]
        Flush         5
        Parsers_File  /fluent-bit/etc/parsers.conf
    @INCLUDE application-log.conf
    @INCLUDE /fluent-bit/etc/host-*.conf
  application-log.conf: |
    [INPUT]
        Name    dummy
        Tag     application.x

    [OUTPUT]
        Name    stdout
        Match   application.*
  host-log.conf: |
    [INPUT]
        Name    dummy
        Tag     host.x
  parsers.conf: |
    [PARSER]
        Name   docker
        Format json
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: fluent-bit
"""


def write_manifest(tmp_path, text: str, name: str = "manifest.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_data_keys_are_virtual_files_with_sibling_includes(tmp_path):
    path = write_manifest(tmp_path, DAEMONSET_MANIFEST)
    document = load_config(str(path), environ={})
    assert document.errors == []
    assert [(s.kind, s.get("name") or s.get("flush")) for s in document.sections] == [
        ("service", "5"),
        ("input", "dummy"),
        ("output", "stdout"),
        ("input", "dummy"),
        ("parser", "docker"),
    ]
    assert str(document.outputs[0].location) == f"{path}[application-log.conf]:5"
    assert str(document.parsers[0].properties[1].location) == f"{path}[parsers.conf]:3"
    assert document.files == [str(path)]


def test_errors_point_at_the_key_and_its_own_lines(tmp_path):
    path = write_manifest(
        tmp_path,
        """\
        kind: ConfigMap
        apiVersion: v1
        metadata:
          name: fb
        data:
          fluent-bit.conf: |
            [INPUT]
                Name dummy
               Tag x
            @INCLUDE missing.conf
        """,
    )
    errors = [str(e) for e in load_config(str(path), environ={}).errors]
    assert errors[0].startswith(f"{path}[fluent-bit.conf]:3: invalid indentation")
    assert errors[1].startswith(f"{path}[fluent-bit.conf]:4: @INCLUDE missing.conf: file not found")


def test_yaml_entry_point_in_a_configmap(tmp_path):
    path = write_manifest(
        tmp_path,
        """\
        kind: ConfigMap
        apiVersion: v1
        metadata:
          name: fb
        data:
          fluent-bit.yaml: |
            includes:
              - outputs.yaml
            pipeline:
              inputs:
                - name: dummy
          outputs.yaml: |
            pipeline:
              outputs:
                - name: stdout
                  match: '*'
        """,
    )
    document = load_config(str(path), environ={})
    assert document.errors == []
    assert [s.kind for s in document.sections] == ["output", "input"]
    assert str(document.inputs[0].location) == f"{path}[fluent-bit.yaml]:5"


def test_manifest_without_a_fluent_bit_configmap(tmp_path):
    path = write_manifest(tmp_path, "kind: ConfigMap\napiVersion: v1\nmetadata:\n  name: other\ndata:\n  a.txt: hi\n")
    (error,) = load_config(str(path), environ={}).errors
    assert str(error) == (
        f"{path}: no ConfigMap here holds fluent-bit.conf or fluent-bit.yaml, and none is the Fargate "
        "aws-observability/aws-logging one (ConfigMaps found: default/other (a.txt))"
    )


def test_non_string_data_is_an_error(tmp_path):
    path = write_manifest(
        tmp_path,
        "kind: ConfigMap\napiVersion: v1\nmetadata:\n  name: fb\ndata:\n  fluent-bit.conf: '[INPUT]'\n  n: 5\n",
    )
    errors = [str(e) for e in load_config(str(path), environ={}).errors]
    assert f"{path}:7: ConfigMap data 'n' must be a string (quote it: \"5\"); Kubernetes rejects it" in errors


def test_malformed_manifests_are_errors_not_crashes(tmp_path):
    bad_data = write_manifest(tmp_path, "kind: ConfigMap\nmetadata: oops\ndata: [a, b]\n", "bad-data.yaml")
    (error,) = load_config(str(bad_data), environ={}).errors  # no second "no ConfigMap found" error
    assert str(error) == f"{bad_data}:3: ConfigMap 'data' must be a mapping of file name to text"
    broken = write_manifest(tmp_path, "kind: ConfigMap\ndata:\n  a: [\n", "broken.yaml")
    (error,) = load_config(str(broken), environ={}).errors
    assert error.message.startswith("invalid YAML") and error.location.file == str(broken)
