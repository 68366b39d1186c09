"""The README's first command, as a user copies it, prints the sample records on any date.

The command is read from the README itself (its first code block), so the
README and this test cannot drift apart; only the install step before ``&&``
is skipped, and ``shipper`` runs from this environment.  It runs with the real
clock and, where Debian's ``faketime`` is installed (``.ci/run`` installs it),
with the clock moved a year and ten years ahead: samples age, the command must not.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import SHIPPER

REPO = Path(__file__).resolve().parents[2]


def quick_start() -> tuple[dict[str, str], list[str]]:
    """The environment assignments and the shipper arguments of the README's first command."""
    block = re.search(r"```\w*\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    assert block, "README.md has no code block"
    line = next(ln for ln in block.group(1).splitlines() if ln.strip() and not ln.lstrip().startswith("#"))
    command = shlex.split(line.split("&&")[-1])
    env = {}
    while "=" in command[0]:
        key, _, value = command.pop(0).partition("=")
        env[key] = value
    assert command[:2] == ["shipper", "dry-run"], f"the README's first command is not a dry-run: {line}"
    return env, command[1:]


def shifts() -> list[str]:
    return ["", "+365d", "+3650d"] if shutil.which("faketime") else [""]


@pytest.mark.parametrize("shift", shifts(), ids=lambda s: s or "today")
def test_the_readme_quick_start_prints_every_sample_record(shift: str) -> None:
    env, args = quick_start()
    clock = ["faketime", "-f", shift] if shift else []
    result = subprocess.run(
        [*clock, *SHIPPER, *args], capture_output=True, text=True, cwd=REPO, timeout=120, env={**os.environ, **env}
    )
    assert result.returncode == 0, result.stderr
    summary = re.findall(r"^dry-run: (\S+): (\d+) records", result.stderr, re.M)
    assert summary and all(int(count) > 0 for _, count in summary), result.stderr
    assert "refused" not in result.stderr, result.stderr
    assert "REFUSED" not in result.stdout


def test_samples_a_month_old_are_shown_refused_not_dropped() -> None:
    """Replayed a month after their time, CloudWatch would refuse the samples: dry-run shows and counts each one."""
    env, args = quick_start()
    at = args.index("--now")
    args[at + 1] = "2026-12-20T10:16:00Z"
    result = subprocess.run([*SHIPPER, *args], capture_output=True, text=True, cwd=REPO, timeout=120, env={**os.environ, **env})
    assert result.returncode == 0, result.stderr
    shown = result.stdout.count("REFUSED too_old")
    assert shown > 0
    assert re.search(rf"^dry-run: cloudwatch_logs.0: 0 records, 0 bytes, 0 requests, {shown} refused$", result.stderr, re.M)
    assert re.search(rf"refused {shown} as too_old: older than 14 days", result.stderr)
    assert "--now" in result.stderr
