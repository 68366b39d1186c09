"""The EKS User Guide's Fargate aws-logging ConfigMaps (fixtures in their shape) through check and dry-run.

Fargate supplies the input (tail on /var/log/containers/*.log, tag kube.*), so dry-run reads
containerd CRI logs stamped with the current time from --log-dir, as the router on a Fargate
pod would, and each example must reach its destination without a refusal.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import shipper

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "fargate"
LOG = f"shop-api-5f6d7c8b94-abcde_shop_api-{'0123456789abcdef' * 4}.log"
TAG = "kube.var.log.containers." + LOG
#: each example's destination as dry-run names it (the kinesis partition key is random, left out).
DESTINATIONS = {
    "cloudwatch": {"log_group": "my-logs", "log_stream": "from-fluent-bit-" + TAG},
    "opensearch": {"index": "example", "operation": "create"},
    "firehose": {"delivery_stream": "my-stream-firehose"},
    "kinesis": {"stream": "my-kinesis-stream"},
}


@pytest.mark.parametrize("name", sorted(DESTINATIONS))
def test_example_passes_check(name: str) -> None:
    result = shipper("check", "-c", str(FIXTURES / f"{name}.yaml"))
    assert result.returncode == 0, result.stderr
    assert "configuration OK" in result.stdout
    assert "tail.0                   tag kube.*  path /var/log/containers/*.log" in result.stdout  # Fargate's input


@pytest.mark.parametrize("name", sorted(DESTINATIONS))
def test_example_dry_run_reaches_its_destination(name: str, tmp_path: Path) -> None:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".123456789Z"
    (tmp_path / LOG).write_text(f'{stamp} stdout F {{"msg":"order placed","order":42}}\n{stamp} stderr F plain text\n')
    result = shipper("dry-run", "-c", str(FIXTURES / f"{name}.yaml"), "--log-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 2 and not [r for r in rows if "refused" in r], result.stdout
    for row in rows:
        assert row["tag"] == TAG
        assert {k: row["destination"][k] for k in DESTINATIONS[name]} == DESTINATIONS[name]
    payloads = [json.loads(r["payload"]) for r in rows]
    if name == "cloudwatch":
        # the crio parser split the CRI line; kubernetes merged the JSON one (Merge_Log On, Keep_Log Off)
        merged, plain = payloads
        assert (merged["stream"], merged["msg"], merged["order"], "log" in merged) == ("stdout", "order placed", 42, False)
        assert (plain["stream"], plain["log"]) == ("stderr", "plain text")
        assert merged["kubernetes"]["namespace_name"] == "shop"  # from the file name, without the API server
    else:  # the raw line under log, as Fargate's input reads it
        assert [p["log"].split(" ", 3)[1:] for p in payloads] == [
            ["stdout", "F", '{"msg":"order placed","order":42}'], ["stderr", "F", "plain text"]]


def test_check_says_where_flb_log_cw_sends_shippers_own_log(tmp_path: Path) -> None:
    configmap = tmp_path / "aws-logging.yaml"
    configmap.write_text(
        "kind: ConfigMap\napiVersion: v1\nmetadata:\n  name: aws-logging\n  namespace: aws-observability\n"
        'data:\n  flb_log_cw: "true"\n  output.conf: |\n    [OUTPUT]\n        Name cloudwatch\n        Match kube.*\n'
        "        region us-west-2\n        log_group_name fluent-bit-cloudwatch\n        log_stream_prefix from-fluent-bit-\n"
    )
    result = shipper("check", "-c", str(configmap), env={**os.environ, "CLUSTER_NAME": "my-cluster"})
    assert result.returncode == 0, result.stderr
    assert "flb_log_cw: shipper's own log goes to CloudWatch Logs group my-cluster-fluent-bit-logs" in result.stdout
    (tmp_path / "off.yaml").write_text(configmap.read_text().replace('"true"', '"false"'))
    assert "flb_log_cw" not in shipper("check", "-c", str(tmp_path / "off.yaml")).stdout
