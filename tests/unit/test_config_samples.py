"""The shipped samples read cleanly, and reader + pipeline.build report typing errors with file:line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shipper import registry
from shipper.config.loader import load_config
from shipper.errors import ConfigErrors
from shipper.pipeline import build

CONFIG = Path(__file__).resolve().parents[2] / "config"
ENVIRONMENT = {"AWS_REGION": "us-east-1", "CLUSTER_NAME": "demo", "HOST_NAME": "node-1"}
SAMPLES = ["fluent-bit.conf", "fluent-bit.yaml", "fargate-aws-logging.yaml", "sidecar.conf"]
STANDARD_PARSERS = {
    "docker", "cri", "json", "apache", "apache2", "apache_error", "nginx", "k8s-nginx-ingress",
    "syslog-rfc5424", "syslog-rfc3164", "syslog-rfc3164-local", "mongodb", "envoy", "logfmt",
}  # fmt: skip


def plugins_missing(document) -> list[str]:
    return [
        f"{s.kind} {s.plugin_name}"
        for s in document.inputs + document.filters + document.outputs
        if registry.lookup(s.kind, s.plugin_name or "") is None
    ]


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_reads_without_errors_or_warnings(name, monkeypatch):
    monkeypatch.chdir(CONFIG)
    document = load_config(str(CONFIG / name), environ=ENVIRONMENT)
    assert document.errors == []
    assert document.warnings == []
    assert document.inputs and document.outputs


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_builds_once_its_plugins_exist(name):
    document = load_config(str(CONFIG / name), environ=ENVIRONMENT)
    missing = plugins_missing(document)
    if missing:
        pytest.skip(f"plugins not written yet: {', '.join(missing)}")
    build(document)


def test_yaml_twin_matches_the_classic_daemonset_config():
    classic = load_config(str(CONFIG / "fluent-bit.conf"), environ=ENVIRONMENT)
    twin = load_config(str(CONFIG / "fluent-bit.yaml"), environ=ENVIRONMENT)

    def pipeline(document):
        return [(s.kind, sorted((p.key.lower(), p.value.lower()) for p in s.properties)) for s in document.sections]

    assert pipeline(twin) == pipeline(classic)


def test_daemonset_output_expands_environment_variables():
    (output,) = load_config(str(CONFIG / "fluent-bit.conf"), environ=ENVIRONMENT).outputs
    assert output.get("log_group_name") == "/aws/containerinsights/demo/application"
    assert output.get("log_stream_prefix") == "node-1-"


def test_parsers_conf_holds_fluent_bits_standard_parsers():
    names = {s.get("name") for s in load_config(str(CONFIG / "sidecar.conf"), environ={}).parsers}
    assert names == STANDARD_PARSERS


def test_sample_logs_are_kubelet_named_cri_files():
    logs = sorted((CONFIG / "samples").glob("*.log"))
    assert 3 <= len(logs) <= 4
    cri = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (stdout|stderr) [PF] ")
    lines = []
    for log in logs:
        assert re.fullmatch(r"[a-z0-9-]+_[a-z0-9-]+_[a-z0-9-]+-[0-9a-f]{64}\.log", log.name), log.name
        lines += log.read_text().splitlines()
    assert all(cri.match(line) for line in lines)
    assert any(" P " in line for line in lines)  # a partial line
    assert any("\tat " in line for line in lines)  # a Java stack trace
    assert 20 <= len(lines) <= 40


def test_build_reports_typing_errors_with_file_and_line(tmp_path):
    path = tmp_path / "f.conf"
    path.write_text(
        "[INPUT]\n    Name dummy\n    Mem_Buf_Limit lots\n    Dumy {}\n    Tag a\n    Tag b\n"
        "[OUTPUT]\n    Name stdout\n    Match *\n"
    )
    with pytest.raises(ConfigErrors) as raised:
        build(load_config(str(path), environ={}))
    found = [str(e) for e in raised.value.errors]
    assert any(e.startswith(f"{path}:3: ") and "mem_buf_limit" in e.lower() and "lots" in e for e in found), found
    assert any(e.startswith(f"{path}:4: ") and "did you mean 'dummy'" in e for e in found), found
    assert any(e.startswith(f"{path}:6: ") and "set twice" in e for e in found), found


def test_reader_errors_reach_build(tmp_path):
    path = tmp_path / "f.conf"
    path.write_text("[INPUT]\n    Name dummy\n   Tag x\n[OUTPUT]\n    Name stdout\n    Match *\n")
    with pytest.raises(ConfigErrors) as raised:
        build(load_config(str(path), environ={}))
    assert [str(e).split(": invalid indentation")[0] for e in raised.value.errors] == [f"{path}:3"]
