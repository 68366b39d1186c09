"""tail through the real CLI: dry-run on the shipped samples, and kill -9 / restart with the offsets DB."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
from pathlib import Path

from tests.e2e.conftest import numbers_in, shipper, start_shipper
from tests.poll import wait_for

REPO = Path(__file__).resolve().parents[2]


def test_dry_run_reads_the_samples_as_if_they_were_var_log_containers() -> None:
    env = {**os.environ, "CLUSTER_NAME": "demo", "HOST_NAME": "node-1", "AWS_REGION": "us-east-1"}  # as the README
    result = shipper("dry-run", "-c", "config/fluent-bit.conf", "--log-dir", "config/samples", "--format", "jsonl",
                     "--now", "2026-11-20T10:16:00Z", cwd=REPO, env=env)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    lines = sum(len(p.read_text().splitlines()) for p in (REPO / "config/samples").glob("*.log"))
    assert 0 < len(rows) <= lines  # partial CRI lines are joined
    assert all(r["tag"].startswith("kube.var.log.containers.") for r in rows)
    assert {r["tag"].split(".")[4].split("_")[0] for r in rows} == {
        p.name.split("_")[0] for p in (REPO / "config/samples").glob("*.log")}
    assert not any("refused" in r for r in rows)
    payloads = [json.loads(r["payload"]) for r in rows]
    assert all({"stream", "_p"} <= set(p) for p in payloads)


CONFIG = """
[SERVICE]
    Flush  0.2
    Grace  5
[INPUT]
    Name              tail
    Path              {log}
    Tag               app
    DB                {db}
    Read_from_Head    On
    Refresh_Interval  1
[OUTPUT]
    Name    file
    Match   *
    Path    {out}
    File    out.jsonl
    Format  json_lines
"""



def committed_offset(db: Path) -> int:
    """The offset the DB holds for the one tailed file (0 before its row is written)."""
    if not db.exists():
        return 0
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
        try:
            rows = conn.execute("SELECT offset FROM shipper_tail_files").fetchall()
        except sqlite3.OperationalError:  # the table is not created yet
            return 0
    return max((offset for (offset,) in rows), default=0)


def test_kill_9_and_restart_with_the_db_loses_nothing(tmp_path: Path) -> None:
    log, db, out = tmp_path / "app.log", tmp_path / "tail.db", tmp_path / "out"
    out.mkdir()
    config = tmp_path / "shipper.conf"
    config.write_text(CONFIG.format(log=log, db=db, out=out))
    with log.open("w") as handle:
        handle.writelines(f"{i} first run\n" for i in range(2000))
    proc = start_shipper("run", "-c", str(config))
    try:
        wait_for(lambda: len(set(numbers_in(out / "out.jsonl", "log", 0))) == 2000, 30, 0.1, "first 2000 lines written")
        # the acknowledgement of the last chunk reaches the DB after the file output has written it
        size = log.stat().st_size
        wait_for(lambda: committed_offset(db) == size, 30, 0.1, "every line's offset committed")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        with log.open("a") as handle:
            handle.writelines(f"{i} while down\n" for i in range(2000, 3000))
        proc = start_shipper("run", "-c", str(config))
        wait_for(lambda: len(set(numbers_in(out / "out.jsonl", "log", 0))) == 3000, 30, 0.1, "all 3000 lines written")
        seen = numbers_in(out / "out.jsonl", "log", 0)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=15)
    assert sorted(set(seen)) == list(range(3000))
    # without the DB the restart would read all 2000 first-run lines again; with it only chunks in flight repeat
    assert len(seen) - 3000 < 2000
    assert os.path.getsize(db) > 0
