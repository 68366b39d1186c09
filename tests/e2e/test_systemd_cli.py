"""The systemd input through the real CLI: kill -9 and restart with the cursor DB loses nothing."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
from pathlib import Path

from tests.e2e.conftest import numbers_in, start_shipper
from tests.journald import write_journal
from tests.poll import wait_for

CONFIG = """
[SERVICE]
    Flush  0.2
    Grace  5
[INPUT]
    Name            systemd
    Path            {journal}
    Tag             host.*
    DB              {db}
    Systemd_Filter  _SYSTEMD_UNIT=kubelet.service
    Read_From_Tail  Off
[OUTPUT]
    Name    file
    Match   host.kubelet.service
    Path    {out}
    File    out.jsonl
    Format  json_lines
"""



def entries(start: int, stop: int) -> list[dict[str, str]]:
    """kubelet's entries numbered start..stop-1, with another unit's entry between each pair."""
    out: list[dict[str, str]] = []
    for i in range(start, stop):
        out.append({"_SYSTEMD_UNIT": "kubelet.service", "MESSAGE": f"kubelet {i}"})
        out.append({"_SYSTEMD_UNIT": "sshd.service", "MESSAGE": f"sshd {i}"})
    return out


def last_kubelet_cursor(journal: Path) -> str:
    """The cursor of kubelet's last entry, as journalctl reports it."""
    out = subprocess.run(["journalctl", "-D", str(journal), "-o", "export", "--no-pager", "_SYSTEMD_UNIT=kubelet.service"],
                         capture_output=True, text=True, check=True).stdout
    return [line.split("=", 1)[1] for line in out.splitlines() if line.startswith("__CURSOR=")][-1]


def committed(db: Path) -> str | None:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT cursor FROM in_systemd_cursor").fetchone()
    return row[0] if row else None


def test_kill_9_and_restart_with_the_cursor_db_loses_nothing(tmp_path: Path) -> None:
    journal, db, out = tmp_path / "journal" / "0f1e2d3c4b5a69788796a5b4c3d2e1f0", tmp_path / "systemd.db", tmp_path / "out"
    out.mkdir()
    config = tmp_path / "shipper.conf"
    config.write_text(CONFIG.format(journal=journal.parent, db=db, out=out))
    write_journal(journal, entries(0, 3000))
    proc = start_shipper("run", "-c", str(config))
    try:
        wait_for(lambda: len(set(numbers_in(out / "out.jsonl", "MESSAGE", 1))) == 3000, 30, 0.1, "first 3000 entries written")
        last = last_kubelet_cursor(journal)
        # the last acknowledgement reaches the DB after the file output has written it
        wait_for(lambda: committed(db) == last, 10, 0.05, "the last cursor committed")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        write_journal(journal, entries(3000, 4000))  # journald goes on while shipper is down
        proc = start_shipper("run", "-c", str(config))
        wait_for(lambda: len(set(numbers_in(out / "out.jsonl", "MESSAGE", 1))) >= 4000, 30, 0.1, "all 4000 entries written")
        seen = numbers_in(out / "out.jsonl", "MESSAGE", 1)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=15)
    assert sorted(set(seen)) == list(range(4000))
    # without the cursor the restart would read the first 3000 again; with it only what was in flight repeats
    assert len(seen) == 4000  # everything was acknowledged before the kill: nothing is read twice
