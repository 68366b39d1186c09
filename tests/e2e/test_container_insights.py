"""AWS's Container Insights DaemonSet configuration, as users run it, through the real CLI.

The fixture (tests/fixtures/container_insights/fluent-bit.yaml) keeps that manifest's
ConfigMap as it is. ``check`` must accept it with the environment its DaemonSet sets, and
``dry-run`` over sample container logs, host logs and a journal must show records from
every input in the right CloudWatch group and stream. Every sample is stamped with the
current time, so CloudWatch's 14-day window never refuses them, on any date.
"""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import shipper
from tests.journald import write_journal

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "tests" / "fixtures" / "container_insights" / "fluent-bit.yaml"
NODE = "ip-10-0-1-23.ec2.internal"
#: what the DaemonSet's env sets (from the fluent-bit-cluster-info ConfigMap and spec.nodeName).
ENV = {"AWS_REGION": "us-west-2", "CLUSTER_NAME": "demo", "HTTP_SERVER": "On", "HTTP_PORT": "2020",
       "READ_FROM_HEAD": "Off", "READ_FROM_TAIL": "On", "HOST_NAME": NODE}
HEX = "0123456789abcdef" * 4
#: container log files by name: the application's pods, shipper-like agents and the dataplane's pods.
CONTAINERS = {
    "app": f"shop-api-5f6d7c8b94-abcde_shop_api-{HEX}.log",
    "fluent-bit": f"fluent-bit-q7k2m_amazon-cloudwatch_fluent-bit-{HEX}.log",
    "cloudwatch-agent": f"cloudwatch-agent-h4x9z_amazon-cloudwatch_cloudwatch-agent-{HEX}.log",
    "aws-node": f"aws-node-m2x7p_kube-system_aws-node-{HEX}.log",
    "kube-proxy": f"kube-proxy-t8w4q_kube-system_kube-proxy-{HEX}.log",
}


def env_for(monkeypatch: pytest.MonkeyPatch, **changes: str) -> None:
    for name, value in {**ENV, **changes}.items():
        monkeypatch.setenv(name, value)


def write_samples(root: Path) -> tuple[Path, Path]:
    """A node's /var/log (containers and host files in one --log-dir) and its journal directory."""
    logs = root / "logs"
    logs.mkdir(parents=True)
    now = time.time()
    docker_time = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".123456789Z"
    cri_time = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".123456789Z"
    for name, file in CONTAINERS.items():
        if name in ("app", "aws-node"):  # docker json-file
            lines = [json.dumps({"log": f"{name} line {i}\n", "stream": "stdout", "time": docker_time}) for i in range(2)]
        else:  # containerd CRI
            lines = [f"{cri_time} stderr F {name} line {i}" for i in range(2)]
        (logs / file).write_text("\n".join(lines) + "\n")
    syslog_time = time.strftime("%b %d %H:%M:%S", time.gmtime(now))  # year-less, as syslog writes
    (logs / "messages").write_text(
        f"{syslog_time} {NODE} kubelet[2211]: I1207 node status updated\n"
        f"{syslog_time} {NODE} systemd: Started Session 5 of user ec2-user.\n")
    (logs / "secure").write_text(f"{syslog_time} {NODE} sshd[3019]: Accepted publickey for ec2-user\n")
    (logs / "dmesg").write_text("[    0.000000] Linux version 6.1.0 (gcc 12)\n[    1.204411] ena 0000:00:05.0: ENA device\n")
    journal = root / "journal"
    write_journal(journal, [
        {"_SYSTEMD_UNIT": "kubelet.service", "_HOSTNAME": NODE, "MESSAGE": "kubelet: node ready", "_PID": "2211",
         "PRIORITY": "6", "SYSLOG_IDENTIFIER": "kubelet"},
        {"_SYSTEMD_UNIT": "sshd.service", "_HOSTNAME": NODE, "MESSAGE": "not a dataplane unit"},
        {"_SYSTEMD_UNIT": "containerd.service", "_HOSTNAME": NODE, "MESSAGE": "containerd: task started"},
        {"_SYSTEMD_UNIT": "docker.service", "_HOSTNAME": NODE, "MESSAGE": "dockerd: listening"},
    ])
    return logs, journal


def test_the_manifest_configmap_passes_check_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    env_for(monkeypatch)
    result = shipper("check", "-c", str(MANIFEST))
    assert result.returncode == 0, result.stderr
    assert "configuration OK" in result.stdout and "is not set" not in result.stderr
    assert re.search(r"systemd\.\d+ +tag dataplane\.systemd\.\*  path /var/log/journal", result.stdout)
    assert result.stdout.count("tag application.*") == 3  # three tail inputs share one tag


@pytest.mark.parametrize("name, value, message", [
    ("READ_FROM_HEAD", "sometimes", "option 'Read_from_Head'"),
    ("HTTP_SERVER", "perhaps", "HTTP_Server"),
    ("READ_FROM_TAIL", "later", "option 'Read_From_Tail'"),
])
def test_variables_are_typed_after_substitution(monkeypatch: pytest.MonkeyPatch, name: str, value: str,
                                                message: str) -> None:
    env_for(monkeypatch, **{name: value})
    result = shipper("check", "-c", str(MANIFEST))
    assert result.returncode == 2
    assert message.lower() in result.stderr.lower() and "expected a boolean" in result.stderr


def dry_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: Path = MANIFEST) -> list[dict[str, Any]]:
    env_for(monkeypatch)
    logs, journal = write_samples(tmp_path)
    result = shipper("dry-run", "-c", str(config), "--log-dir", str(logs), "--journal-dir", str(journal))
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_dry_run_sends_every_input_to_its_group_and_stream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = dry_run(tmp_path, monkeypatch)
    assert not [r for r in rows if "refused" in r]
    by_stream: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_stream[(row["destination"]["log_group"], row["destination"]["log_stream"])].append(json.loads(row["payload"]))
    group = "/aws/containerinsights/demo/"
    containers = f"{NODE}-application.var.log.containers."
    dataplane = f"{NODE}-dataplane."
    expected = {
        (group + "application", containers + CONTAINERS["app"]): 2,
        (group + "application", containers + CONTAINERS["fluent-bit"]): 2,
        (group + "application", containers + CONTAINERS["cloudwatch-agent"]): 2,
        (group + "dataplane", dataplane + "tail.var.log.containers." + CONTAINERS["aws-node"]): 2,
        (group + "dataplane", dataplane + "tail.var.log.containers." + CONTAINERS["kube-proxy"]): 2,
        (group + "dataplane", dataplane + "systemd.kubelet.service"): 1,
        (group + "dataplane", dataplane + "systemd.containerd.service"): 1,
        (group + "dataplane", dataplane + "systemd.docker.service"): 1,
        (group + "host", f"{NODE}.host.dmesg"): 2,
        (group + "host", f"{NODE}.host.messages"): 2,
        (group + "host", f"{NODE}.host.secure"): 1,
    }
    assert {k: len(v) for k, v in by_stream.items()} == expected
    # the dataplane journal: modify renamed three fields and Remove_regex's lookahead dropped the rest
    kubelet = by_stream[(group + "dataplane", dataplane + "systemd.kubelet.service")][0]
    assert kubelet == {"hostname": NODE, "systemd_unit": "kubelet.service", "message": "kubelet: node ready"}
    # dmesg lines under Key message; syslog lines split by the regex parser
    assert by_stream[(group + "host", f"{NODE}.host.dmesg")][0] == {"message": "[    0.000000] Linux version 6.1.0 (gcc 12)"}
    assert by_stream[(group + "host", f"{NODE}.host.secure")][0] == {
        "host": NODE, "ident": "sshd", "pid": "3019", "message": "Accepted publickey for ec2-user"}
    assert by_stream[(group + "host", f"{NODE}.host.messages")][1] == {
        "host": NODE, "ident": "systemd", "message": "Started Session 5 of user ec2-user."}
    # container lines: docker and CRI both decoded
    app = by_stream[(group + "application", containers + CONTAINERS["app"])]
    assert [p["log"] for p in app] == ["app line 0\n", "app line 1\n"]
    agent = by_stream[(group + "application", containers + CONTAINERS["fluent-bit"])]
    assert [p["log"] for p in agent] == ["fluent-bit line 0", "fluent-bit line 1"]


def test_dry_run_without_journal_dir_says_the_journal_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_for(monkeypatch)
    logs, _ = write_samples(tmp_path)
    result = shipper("dry-run", "-c", str(MANIFEST), "--log-dir", str(logs))
    assert result.returncode == 0, result.stderr
    assert "without --journal-dir" in result.stderr
    tags = {json.loads(line)["tag"] for line in result.stdout.splitlines()}
    assert not [t for t in tags if t.startswith("dataplane.systemd.")] and "host.secure" in tags


def test_syslog_times_take_the_current_year(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = dry_run(tmp_path, monkeypatch)
    secure = next(r for r in rows if r["destination"]["log_stream"].endswith(".host.secure"))
    written = time.strftime("%b %d %H:%M:%S", time.strptime(secure["time"][:19], "%Y-%m-%dT%H:%M:%S"))
    assert secure["time"][:4] == time.strftime("%Y", time.gmtime())
    assert written in (tmp_path / "logs" / "secure").read_text()


def test_deploy_daemonset_ships_the_same_samples_to_the_same_groups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """deploy/daemonset is our own ConfigMap in this layout: the same node logs reach the same streams."""
    ours = dry_run(tmp_path, monkeypatch, ROOT / "deploy" / "daemonset" / "configmap.yaml")
    theirs = dry_run(tmp_path / "again", monkeypatch)

    def streams(rows: list[dict[str, Any]]) -> set[tuple[str, str]]:
        return {(r["destination"]["log_group"], r["destination"]["log_stream"]) for r in rows}
    assert not [r for r in ours if "refused" in r]
    # ours reads shipper's own pod log in place of fluent-bit's and the CloudWatch agent's
    agents = {s for s in streams(theirs) if "fluent-bit-" in s[1] or "cloudwatch-agent-" in s[1]}
    assert len(agents) == 2 and streams(ours) == streams(theirs) - agents
    assert {group.rsplit("/", 1)[1] for group, _ in streams(ours)} == {"application", "dataplane", "host"}


COMPATIBLE = MANIFEST.with_name("fluent-bit-compatible.yaml")


def test_the_go_plugin_variant_passes_check_and_fills_its_stream_templates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fluent-bit-compatible.yaml: Docker_Mode inputs, nest filters and the Go cloudwatch plugin's $(...) streams."""
    env_for(monkeypatch)
    checked = shipper("check", "-c", str(COMPATIBLE))
    assert checked.returncode == 0, checked.stderr
    rows = dry_run(tmp_path, monkeypatch, COMPATIBLE)
    assert rows and not [r for r in rows if "refused" in r]
    streams = {(r["destination"]["log_group"].rsplit("/", 1)[1], r["destination"]["log_stream"]) for r in rows}
    assert ("application", CONTAINERS["app"].removesuffix(".log")) in streams  # $(tag[4])
    assert ("dataplane", f"kubelet.service-{NODE}") in streams  # $(tag[2]).$(tag[3])-$(hostname)
    assert ("host", f"host.secure-{NODE}") in streams  # $(tag)-$(host)
    assert {group for group, _ in streams} == {"application", "dataplane", "host"}
    app = next(json.loads(r["payload"]) for r in rows if r["destination"]["log_stream"] == CONTAINERS["app"][:-4])
    # lift, rename, nest, nest: the container id moved from kubernetes.docker_id to docker.container_id
    assert app["docker"] == {"container_id": HEX} and "docker_id" not in app["kubernetes"]
