"""The Fargate aws-logging ConfigMap: Fargate's fixed [INPUT], and each Fargate rule reported by key and line."""

from __future__ import annotations

import textwrap

import pytest

from shipper.config.fargate import FARGATE_INPUT
from shipper.config.loader import load_config

NAMESPACE = """\
kind: Namespace
apiVersion: v1
metadata:
  name: aws-observability
  labels:
    aws-observability: {label}
---
"""

OUTPUT = "[OUTPUT]\n    Name cloudwatch_logs\n    Match *\n    region us-east-1\n    log_group_name g\n"


def manifest(tmp_path, data: dict[str, str], namespace_label: str | None = None):
    """Write an aws-logging ConfigMap (and optionally its Namespace) and load it."""
    lines = [] if namespace_label is None else [NAMESPACE.format(label=namespace_label)]
    lines.append("kind: ConfigMap\napiVersion: v1\nmetadata:\n  name: aws-logging\n  namespace: aws-observability\ndata:\n")
    for key, value in data.items():
        lines.append(f"  {key}: |\n{textwrap.indent(value, '    ')}" if "\n" in value else f"  {key}: {value}\n")
    path = tmp_path / "aws-logging.yaml"
    path.write_text("".join(lines))
    return path, load_config(str(path), environ={"CLUSTER_NAME": "prod"})


def errors(document) -> list[str]:
    return [str(e) for e in document.errors]


def test_fargate_supplies_its_input_then_filters_outputs_parsers(tmp_path):
    path, document = manifest(
        tmp_path,
        {
            "flb_log_cw": '"true"',
            "filters.conf": "[FILTER]\n    Name grep\n    Match *\n    Regex log x\n",
            "output.conf": OUTPUT,
            "parsers.conf": "[PARSER]\n    Name crio\n    Format json\n",
        },
        namespace_label="enabled",
    )
    assert errors(document) == []
    assert [s.kind for s in document.sections] == ["input", "filter", "output", "parser"]
    assert [(p.key, p.value) for p in document.inputs[0].properties] == list(FARGATE_INPUT)
    assert str(document.filters[0].location) == f"{path}[filters.conf]:1"
    assert document.fargate is not None and document.fargate.log_to_cloudwatch
    assert document.fargate.log_group == "prod-fluent-bit-logs"


def test_flb_log_cw_defaults_to_off(tmp_path):
    _, document = manifest(tmp_path, {"output.conf": OUTPUT})
    assert errors(document) == []
    assert document.fargate is not None and not document.fargate.log_to_cloudwatch


def test_only_filter_output_parser_sections_in_their_keys(tmp_path):
    path, document = manifest(
        tmp_path,
        {
            "filters.conf": "[INPUT]\n    Name dummy\n[OUTPUT]\n    Name es\n    Match *\n",
            "output.conf": OUTPUT + "[SERVICE]\n    Flush 1\n",
            "parsers.conf": "[MULTILINE_PARSER]\n    name m\n",
        },
    )
    assert errors(document) == [
        f"{path}[filters.conf]:1: [INPUT] is not allowed in filters.conf: Fargate accepts only [FILTER] there",
        f"{path}[filters.conf]:3: [OUTPUT] is not allowed in filters.conf: Fargate accepts only [FILTER] there",
        f"{path}[output.conf]:6: [SERVICE] is not allowed in output.conf: Fargate accepts only [OUTPUT] there",
        f"{path}[parsers.conf]:1: [MULTILINE_PARSER] is not allowed in parsers.conf: Fargate accepts only [PARSER] there",
    ]


def test_filter_and_output_plugins_fargate_accepts(tmp_path):
    path, document = manifest(
        tmp_path,
        {
            "filters.conf": "[FILTER]\n    Name lua\n    Match *\n[FILTER]\n    Name throttle\n    Match *\n",
            "output.conf": OUTPUT + "[OUTPUT]\n    Name stdout\n    Match *\n[OUTPUT]\n    Name opensearch\n    Match *\n",
        },
    )
    assert errors(document) == [
        f"{path}[filters.conf]:2: Fargate does not allow filter 'lua' (allowed: grep, kubernetes, modify, nest, "
        "parser, record_modifier, rewrite_tag, throttle)",
        f"{path}[output.conf]:7: Fargate does not allow output 'stdout' (allowed: cloudwatch, cloudwatch_logs, es, "
        "firehose, kinesis, kinesis_firehose)",
    ]
    assert [str(w) for w in document.warnings] == [
        f"{path}[output.conf]:10: output 'opensearch' runs in shipper, but Fargate's validator rejects it; use 'es' for Fargate"
    ]


def test_variables_and_directives_are_refused(tmp_path):
    path, document = manifest(
        tmp_path,
        {"output.conf": OUTPUT.replace("log_group_name g", "log_group_name ${GROUP}") + "@INCLUDE more.conf\n"},
    )
    found = errors(document)
    assert f"{path}[output.conf]:5: Fargate does not allow variables (${{...}}) in its ConfigMap" in found
    assert f"{path}[output.conf]:6: Fargate does not allow @INCLUDE directives in its ConfigMap" in found
    assert document.warnings == []  # ${GROUP} is an error, not also an "unset variable" warning


@pytest.mark.parametrize("key", ["Kube_URL", "Kube_CA_File", "Kube_Token_File", "Kube_Token_Command"])
def test_kubernetes_filter_keys_fargate_sets_itself(tmp_path, key):
    path, document = manifest(
        tmp_path,
        {"filters.conf": f"[FILTER]\n    Name kubernetes\n    Match kube.*\n    {key} x\n", "output.conf": OUTPUT},
    )
    assert errors(document) == [f"{path}[filters.conf]:4: Fargate sets {key} itself; remove it from the kubernetes filter"]


def test_size_limit(tmp_path):
    filler = "".join(f"    # padding comment line {i:04d} to grow the ConfigMap past the limit\n" for i in range(80))
    path, document = manifest(tmp_path, {"output.conf": OUTPUT + filler})
    (error,) = errors(document)
    assert error.startswith(f"{path}:6: the aws-logging ConfigMap data is ")
    assert error.endswith("characters (keys and values); Fargate accepts at most 5300")


def test_at_least_one_output(tmp_path):
    path, document = manifest(tmp_path, {"filters.conf": "[FILTER]\n    Name grep\n    Match *\n"})
    assert errors(document) == [
        f"{path}:6: Fargate needs at least one [OUTPUT] in output.conf (cloudwatch, cloudwatch_logs, es, firehose, "
        "kinesis, kinesis_firehose)"
    ]


def test_namespace_needs_the_label(tmp_path):
    path, document = manifest(tmp_path, {"output.conf": OUTPUT}, namespace_label="disabled")
    assert errors(document) == [
        f"{path}:1: Namespace aws-observability must carry the label 'aws-observability: enabled' "
        "or Fargate ignores the ConfigMap"
    ]


def test_unknown_keys_are_ignored_with_a_warning(tmp_path):
    path, document = manifest(tmp_path, {"output.conf": OUTPUT, "fluent-bit.conf": "[INPUT]\n    Name dummy\n"})
    assert errors(document) == []
    assert [s.kind for s in document.sections] == ["input", "output"]
    assert [str(w) for w in document.warnings] == [
        f"{path}:6: Fargate ignores data key 'fluent-bit.conf' (it reads filters.conf, output.conf, parsers.conf, flb_log_cw)"
    ]
