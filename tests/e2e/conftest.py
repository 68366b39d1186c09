"""Helpers for running the real ``shipper`` CLI as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SHIPPER = [sys.executable, "-m", "shipper"]


def shipper(*args: str, cwd: Path | None = None, timeout: float = 60, **kw) -> subprocess.CompletedProcess[str]:
    """Run ``shipper ARGS`` to completion and capture its output."""
    return subprocess.run([*SHIPPER, *args], capture_output=True, text=True, cwd=cwd, timeout=timeout, **kw)


def start_shipper(*args: str, cwd: Path | None = None, **kw) -> subprocess.Popen[str]:
    """Start ``shipper ARGS`` in the background; the caller stops it."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [*SHIPPER, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, env=env, **kw
    )


def numbers_in(path: Path, key: str, word: int) -> list[int]:
    """The sequence numbers delivered to a json_lines file: word ``word`` of each complete record's ``key``.

    A line still being written (no closing brace yet) is left for the next look.
    """
    if not path.exists():
        return []
    return [int(json.loads(line)[key].split()[word]) for line in path.read_text().splitlines() if line.endswith("}")]


@pytest.fixture
def write(tmp_path: Path):
    """Write a file under tmp_path and return its path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    return _write
