"""deploy/daemonset-s3: the base DaemonSet plus an S3 archive; the merged config passes check."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from shipper.cli import main
from tests.deploy.shipped import DEPLOY, SAMPLE_ENV, documents

OVERLAY = DEPLOY / "daemonset-s3"


def merged_configmap() -> dict[str, object]:
    """The base ConfigMap with the overlay's data keys applied, as kustomize's patch does."""
    base = next(d for d in documents(DEPLOY / "daemonset" / "configmap.yaml") if d["kind"] == "ConfigMap")
    patch = documents(OVERLAY / "configmap-patch.yaml")[0]
    assert (patch["metadata"]["name"], patch["metadata"]["namespace"]) == (base["metadata"]["name"], base["metadata"]["namespace"])
    return {**base, "data": {**base["data"], **patch["data"]}}


def test_kustomization_builds_on_the_base_daemonset() -> None:
    kustomization = yaml.safe_load((OVERLAY / "kustomization.yaml").read_text())
    assert kustomization["resources"] == ["../daemonset"]
    assert all((OVERLAY / p["path"]).is_file() for p in kustomization["patches"])


def test_merged_config_passes_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "configmap.yaml"
    path.write_text(yaml.safe_dump(merged_configmap()))
    for name, value in SAMPLE_ENV.items():
        monkeypatch.setenv(name, value)
    code = main(["check", "-c", str(path)])
    out = capsys.readouterr()
    assert code == 0, out.out + out.err


def test_s3_archives_what_cloudwatch_gets_and_buffers_on_the_node() -> None:
    data = merged_configmap()["data"]
    assert isinstance(data, dict)
    text = "\n".join(data.values())
    outputs = re.findall(r"^\s*Name\s+(\S+)\s*\n\s*(?:Alias\s+\S+\s*\n\s*)?Match\s+(\S+)", text, re.MULTILINE)
    assert ("cloudwatch_logs", "application.*") in outputs and ("s3", "application.*") in outputs
    store_dir = re.search(r"^\s*store_dir\s+(\S+)", text, re.MULTILINE)
    assert store_dir and store_dir.group(1).startswith("/var/fluent-bit/state/")  # the base hostPath mount


def test_iam_policy_covers_both_destinations() -> None:
    policy = json.loads((OVERLAY / "iam-policy.json").read_text())
    actions = {a for statement in policy["Statement"] for a in statement["Action"]}
    needed = {"logs:PutLogEvents", "logs:CreateLogStream", "s3:PutObject", "s3:AbortMultipartUpload",
              "s3:ListBucketMultipartUploads", "s3:GetObject"}
    assert needed <= actions, needed - actions
    bucket = re.search(r"^\s*bucket\s+(\S+)", (OVERLAY / "configmap-patch.yaml").read_text(), re.MULTILINE)
    assert bucket and all(bucket.group(1) in json.dumps(s["Resource"]) for s in policy["Statement"] if s["Sid"].startswith("Archive"))
