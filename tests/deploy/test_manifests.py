"""deploy/: every manifest validates against Kubernetes' schemas, every embedded config passes
``shipper check``, and the pieces agree with each other (ports, Grace, env, volumes, IAM)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from shipper.cli import main
from shipper.config.loader import load_config
from tests.deploy.shipped import (
    DEPLOY,
    SAMPLE_ENV,
    ShippedConfig,
    config_variables,
    documents,
    manifests,
    shipped_configs,
)

#: the newest Kubernetes whose schemas kubernetes-validate ships.
K8S_VERSION = kubernetes_validate.latest_version()
CONFIGS = shipped_configs()


def run_check(config: ShippedConfig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    for name in SAMPLE_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in config.env.items():
        monkeypatch.setenv(name, value)
    code = main(["check", "-c", str(config.path)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize("path", manifests(), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_manifest_validates_strictly(path: Path) -> None:
    docs = documents(path)
    assert docs, f"{path} holds no resource"
    for doc in docs:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_strict_validation_rejects_a_misspelt_field() -> None:
    doc = documents(DEPLOY / "daemonset" / "daemonset.yaml")[0]
    doc["spec"]["template"]["spec"]["terminationGracePeriod"] = 45
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.id)
def test_shipped_config_passes_check(
    config: ShippedConfig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, output = run_check(config, monkeypatch, capsys)
    assert code == 0, output
    assert "configuration OK" in output
    assert "is not set" not in output, output  # every ${VAR} is one the pod provides


@pytest.mark.parametrize("path", sorted((DEPLOY / "fargate").glob("*/aws-logging.yaml")), ids=lambda p: p.parent.name)
def test_fargate_manifests_are_read_with_fargate_rules(path: Path) -> None:
    document = load_config(str(path))
    assert document.fargate is not None, "not recognised as the aws-observability/aws-logging ConfigMap"
    assert [s.plugin_name for s in document.inputs] == ["tail"]  # Fargate's own input, not ours


def test_fargate_rules_are_enforced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (DEPLOY / "fargate" / "cloudwatch" / "aws-logging.yaml").read_text()
    broken = tmp_path / "aws-logging.yaml"
    broken.write_text(text.replace("region              us-east-1", "region              ${AWS_REGION}"))
    code, output = run_check(ShippedConfig(broken), monkeypatch, capsys)
    assert code != 0 and "Fargate does not allow variables" in output


def workload(path: Path) -> dict[str, Any]:
    return next(d for d in documents(path) if d["kind"] in ("DaemonSet", "Deployment"))


def shipper_container(pod: dict[str, Any]) -> dict[str, Any]:
    every = pod.get("initContainers", []) + pod["containers"]
    return next(c for c in every if c["name"] == "shipper")


def configmap_text(path: Path) -> str:
    doc = next(d for d in documents(path) if d["kind"] == "ConfigMap")
    return "\n".join(doc["data"].values())


def service_value(text: str, key: str) -> str:
    match = re.search(rf"^\s*{re.escape(key)}\s+(\S+)", text, re.IGNORECASE | re.MULTILINE)
    assert match, f"{key} not set"
    return match.group(1)


WORKLOADS = [
    (DEPLOY / "daemonset" / "daemonset.yaml", DEPLOY / "daemonset" / "configmap.yaml"),
    (DEPLOY / "sidecar" / "deployment.yaml", DEPLOY / "sidecar" / "configmap.yaml"),
    (DEPLOY / "sidecar" / "classic" / "deployment.yaml", DEPLOY / "sidecar" / "configmap.yaml"),
]


@pytest.mark.parametrize("workload_path, configmap_path", WORKLOADS, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_workload_agrees_with_its_config(workload_path: Path, configmap_path: Path) -> None:
    pod = workload(workload_path)["spec"]["template"]["spec"]
    container = shipper_container(pod)
    text = configmap_text(configmap_path)
    # Every ${VAR} of the config is set in the container's environment.
    env = {e["name"] for e in container.get("env", [])}
    assert config_variables(configmap_path) <= env
    # Kubernetes waits longer than Grace before SIGKILL.
    assert pod["terminationGracePeriodSeconds"] > int(service_value(text, "Grace"))
    # Probes and the port name point at HTTP_Port, and the probed endpoints are enabled.
    port = int(service_value(text, "HTTP_Port"))
    assert service_value(text, "HTTP_Server").lower() == "on"
    assert [p["containerPort"] for p in container["ports"]] == [port]
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        if probe in container:
            assert container[probe]["httpGet"]["port"] in (port, container["ports"][0]["name"])
            if container[probe]["httpGet"]["path"] == "/api/v1/health":
                assert service_value(text, "Health_Check").lower() == "on"
    # The config mounts where the image's CMD reads it.
    mounts = {m["mountPath"].rstrip("/"): m for m in container["volumeMounts"]}
    assert "/fluent-bit/etc" in mounts and container["args"][-1] == "/fluent-bit/etc/fluent-bit.conf"


def test_daemonset_node_access() -> None:
    ds = workload(DEPLOY / "daemonset" / "daemonset.yaml")
    pod = ds["spec"]["template"]["spec"]
    container = shipper_container(pod)
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert mounts["/var/log"]["readOnly"] and mounts["/var/lib/docker/containers"]["readOnly"]
    assert not mounts["/var/fluent-bit/state"].get("readOnly", False)
    state_volume = next(v for v in pod["volumes"] if v["name"] == mounts["/var/fluent-bit/state"]["name"])
    assert state_volume["hostPath"]["path"] == "/var/fluent-bit/state"
    # Offsets DBs and the filesystem buffer live in the writable state dir.
    text = configmap_text(DEPLOY / "daemonset" / "configmap.yaml")
    writable = [m.group(1) for m in re.finditer(r"^\s*(?:DB|storage\.path)\s+(\S+)", text, re.MULTILINE | re.IGNORECASE)]
    assert writable and all(path.startswith("/var/fluent-bit/state/") for path in writable)
    # HOST_NAME is the node name, for the stream prefix.
    host = next(e for e in container["env"] if e["name"] == "HOST_NAME")
    assert host["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
    assert {"operator": "Exists"} in pod["tolerations"]
    assert pod["priorityClassName"] and container["resources"]["limits"]["memory"]
    assert container["securityContext"]["readOnlyRootFilesystem"]


def test_daemonset_config_is_container_insights_style() -> None:
    text = configmap_text(DEPLOY / "daemonset" / "configmap.yaml")
    assert "log_group_name      /aws/containerinsights/${CLUSTER_NAME}/application" in text
    assert "log_stream_prefix   ${HOST_NAME}-" in text
    assert re.search(r"^\s*multiline\.parser\s+docker, cri\s*$", text, re.MULTILINE)
    assert re.search(r"^\s*Name\s+kubernetes\s*$", text, re.MULTILINE)
    assert service_value(text, "Health_Check").lower() == "on"
    assert service_value(text, "Grace") == "30"


def test_rbac_reads_pods_and_namespaces_only() -> None:
    role = next(d for d in documents(DEPLOY / "daemonset" / "rbac.yaml") if d["kind"] == "ClusterRole")
    granted = {(r, v) for rule in role["rules"] for r in rule["resources"] for v in rule["verbs"]}
    assert granted == {(r, v) for r in ("pods", "namespaces") for v in ("get", "list", "watch")}
    account = next(d for d in documents(DEPLOY / "daemonset" / "rbac.yaml") if d["kind"] == "ServiceAccount")
    assert "eks.amazonaws.com/role-arn" in account["metadata"]["annotations"]


def test_kustomization_is_consistent() -> None:
    folder = DEPLOY / "daemonset"
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    assert all((folder / resource).is_file() for resource in kustomization["resources"])
    container = shipper_container(workload(folder / "daemonset.yaml")["spec"]["template"]["spec"])
    assert container["image"].split(":")[0] in {image["name"] for image in kustomization["images"]}
    generated = {g["name"]: {lit.split("=")[0] for lit in g["literals"]} for g in kustomization["configMapGenerator"]}
    for entry in container["env"]:
        ref = entry.get("valueFrom", {}).get("configMapKeyRef")
        if ref:
            assert ref["key"] in generated[ref["name"]]


#: per destination: an IAM action the output cannot work without.
REQUIRED_ACTIONS = {
    "cloudwatch_logs": {"logs:PutLogEvents", "logs:CreateLogStream"},
    "kinesis_firehose": {"firehose:PutRecordBatch"},
    "es": {"es:ESHttpPost"},
}


@pytest.mark.parametrize(
    "folder",
    [DEPLOY / "daemonset", DEPLOY / "sidecar", *sorted(p.parent for p in (DEPLOY / "fargate").glob("*/aws-logging.yaml"))],
    ids=lambda p: str(p.relative_to(DEPLOY)),
)
def test_iam_policy_covers_the_destination(folder: Path) -> None:
    policy = json.loads((folder / "iam-policy.json").read_text())
    assert policy["Version"] == "2012-10-17"
    actions: set[str] = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow" and statement["Resource"]
        actions.update(statement["Action"])
    text = "\n".join(configmap_text(p) for p in folder.glob("*.yaml") if any(d["kind"] == "ConfigMap" for d in documents(p)))
    outputs = set(re.findall(r"^\s*Name\s+(cloudwatch_logs|kinesis_firehose|es)\s*$", text, re.MULTILINE))
    assert outputs, "no AWS output in this folder's config"
    for output in outputs:
        assert REQUIRED_ACTIONS[output] <= actions, f"{output} needs {REQUIRED_ACTIONS[output] - actions}"


def test_daemonset_mounts_every_path_its_config_reads_read_only() -> None:
    pod = workload(DEPLOY / "daemonset" / "daemonset.yaml")["spec"]["template"]["spec"]
    container = shipper_container(pod)
    read_only = [m["mountPath"].rstrip("/") for m in container["volumeMounts"] if m.get("readOnly")]
    text = configmap_text(DEPLOY / "daemonset" / "configmap.yaml")
    # tail Path globs (comma-separated) and the systemd input's journal directory
    paths = [p.strip() for m in re.finditer(r"^\s*Path\s+(.+)$", text, re.MULTILINE) for p in m.group(1).split(",")]
    assert "/var/log/journal" in paths and "/var/log/dmesg" in paths
    for path in paths:
        assert any(path == root or path.startswith(root + "/") for root in read_only), f"{path} is not mounted read-only"
    assert "/run/log/journal" in read_only  # the volatile journal, for nodes that keep no persistent one
