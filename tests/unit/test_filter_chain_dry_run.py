"""parser -> grep -> modify -> nest -> rewrite_tag on kubernetes-like docker lines, through `shipper dry-run`.

Expected results follow the Fluent Bit docs of each filter: the docker parser
keeps ``time``; the parser filter with Reserve_Data puts the parsed keys first
and drops ``log``; grep drops debug; modify renames in place, adds at the end
and removes ``stream``; nest lifts ``kubernetes`` with a prefix; rewrite_tag
moves errors to ``alerts.<namespace>.error`` after the chunk's other records.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shipper.cli import main

SHIPPED_PARSERS = Path(__file__).resolve().parents[2] / "config" / "parsers.conf"

CONFIG = f"""\
[SERVICE]
    Parsers_File {SHIPPED_PARSERS}

[INPUT]
    Name            tail
    Path            /var/log/containers/*.log
    Tag             kube.*
    Parser          docker
    Read_from_Head  On

[FILTER]
    Name          parser
    Match         kube.*
    Key_Name      log
    Parser        json
    Reserve_Data  On

[FILTER]
    Name     grep
    Match    kube.*
    Exclude  level ^debug$

[FILTER]
    Name    modify
    Match   kube.*
    Rename  msg message
    Add     cluster prod-eu-1
    Remove  stream

[FILTER]
    Name          nest
    Match         kube.*
    Operation     lift
    Nested_under  kubernetes
    Add_prefix    k8s_

[FILTER]
    Name   rewrite_tag
    Match  kube.*
    Rule   $level ^(error)$ alerts.$k8s_namespace_name.$1 false

[OUTPUT]
    Name   stdout
    Match  *
    Format json_lines
"""

LINES = [("info", "served"), ("debug", "noise"), ("error", "db down"), ("warn", "slow")]


def test_chain_in_dry_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conf = tmp_path / "fluent-bit.conf"
    conf.write_text(CONFIG)
    logs = tmp_path / "logs"
    logs.mkdir()
    with open(logs / "web.log", "w") as handle:
        for i, (level, msg) in enumerate(LINES):
            inner = json.dumps({"level": level, "msg": msg, "n": i})
            outer = {"log": inner + "\n", "stream": "stdout", "time": f"2024-03-05T10:15:3{i}.25Z",
                     "kubernetes": {"namespace_name": "shop", "pod_name": "web-1"}}
            handle.write(json.dumps(outer) + "\n")
    assert main(["dry-run", "-c", str(conf), "--log-dir", str(logs)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    got = [(row["tag"], row["time"], json.loads(row["payload"])) for row in rows]

    def record(i: int) -> dict:
        level, msg = LINES[i]
        return {
            "level": level,
            "message": msg,
            "n": i,
            "time": f"2024-03-05T10:15:3{i}.25Z",
            "cluster": "prod-eu-1",
            "k8s_namespace_name": "shop",
            "k8s_pod_name": "web-1",
        }

    assert [(tag, when, {k: v for k, v in payload.items() if k != "date"}) for tag, when, payload in got] == [
        ("kube.var.log.containers.web.log", "2024-03-05T10:15:30.250000000Z", record(0)),
        ("kube.var.log.containers.web.log", "2024-03-05T10:15:33.250000000Z", record(3)),
        ("alerts.shop.error", "2024-03-05T10:15:32.250000000Z", record(2)),
    ]
    assert all(list(payload)[1:] == list(record(0)) for _, _, payload in got)
