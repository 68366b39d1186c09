"""Dry-run prints warnings only; a filter that adds nothing in dry-run must say so there.

Without these lines a user sees records without labels or EC2 metadata and
no reason why.
"""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import shipper

CONFIG = """
[INPUT]
    Name              tail
    Path              /var/log/containers/*.log
    Tag               kube.*
    multiline.parser  cri
[FILTER]
    Name   kubernetes
    Match  kube.*
[FILTER]
    Name   aws
    Match  *
[OUTPUT]
    Name    file
    Match   *
    Path    {out}
"""


def test_kubernetes_and_aws_filters_say_what_dry_run_leaves_out(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / f"web-1_shop_nginx-{'cd' * 32}.log").write_text("2026-11-20T10:15:01.000000000Z stdout F hello\n")
    config = tmp_path / "fluent-bit.conf"
    config.write_text(CONFIG.format(out=tmp_path / "out"))
    result = shipper("dry-run", "-c", str(config), "--log-dir", str(logs))
    assert result.returncode == 0, result.stderr
    assert "records get only the fields their tag gives" in result.stderr
    assert "IMDS is not asked; records get no EC2 metadata" in result.stderr
