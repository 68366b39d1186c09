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


def test_the_patch_is_the_base_service_plus_one_include() -> None:
    """The patch replaces fluent-bit.conf whole: it must follow every change to the base's."""
    base = next(d for d in documents(DEPLOY / "daemonset" / "configmap.yaml") if d["kind"] == "ConfigMap")
    patch = documents(OVERLAY / "configmap-patch.yaml")[0]
    assert patch["data"]["fluent-bit.conf"] == base["data"]["fluent-bit.conf"] + "@INCLUDE s3-archive.conf\n"


def test_merged_config_passes_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "configmap.yaml"
    path.write_text(yaml.safe_dump(merged_configmap()))
    for name, value in SAMPLE_ENV.items():
        monkeypatch.setenv(name, value)
    code = main(["check", "-c", str(path)])
    out = capsys.readouterr()
    assert code == 0, out.out + out.err


ARCHIVE_TEST = """
now: 2026-12-07T10:00:05Z
tests:
  - name: an application line goes to CloudWatch and to the archive object of its pod's log file
    input:
      path: /var/log/containers/web-7d9c5b6f4d-x2x8q_shop_nginx-5311949e7fd8ca3bae1d3dcbe2f3cdd6482672d7bb1713d1252dc20691ba1bff.log
      lines:
        - '2026-12-07T10:00:00.000000000Z stdout F {"level":"error","msg":"upstream timed out"}'
    kube_meta:
      pod_id: 0f1e2d3c-0000-4000-8000-00000000aaaa
      host: ip-10-0-1-23.ec2.internal
      containers: {nginx: {image: 'nginx:1.27'}}
    expect:
      - {output: cloudwatch_logs.0, count: 1}
      - output: s3_archive
        count: 1
        destination:
          bucket: my-log-archive
          key: kubernetes/my-cluster/web-7d9c5b6f4d-x2x8q_shop_nginx-5311949e7fd8ca3bae1d3dcbe2f3cdd6482672d7bb1713d1252dc20691ba1bff/2026/12/07/10/ip-10-0-1-23.ec2.internal-0.gz
        payload:
          contains:
            date: '2026-12-07T10:00:00.000000Z'
            log_processed: {level: error, msg: upstream timed out}
"""


def test_shipper_test_shows_the_archive_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "configmap.yaml"
    config.write_text(yaml.safe_dump(merged_configmap()))
    tests = tmp_path / "archive.test.yaml"
    tests.write_text(ARCHIVE_TEST)
    for name, value in SAMPLE_ENV.items():
        monkeypatch.setenv(name, value)
    code = main(["test", "-c", str(config), str(tests)])
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    assert out.out.endswith("1 passed, 0 failed\n")


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
