"""Pod churn: files created and deleted quickly, so new files land on inodes tail has just let go of.

ext4, overlayfs and tmpfs hand a freed inode number to the next file created
at once.  A new file on such an inode must be read from its first byte, not
from where tail left the deleted file that had the same (device, inode), and
each such reuse tail notices is counted (``shipper_tail_inode_reused_total``).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import orjson
import pytest

from bench.reliability import Shipper, child_env
from tests.poll import eventually, wait_for
from tests.servers.moto import free_port

FILES = 300
PER_SECOND = 100
LIFETIME = 1.0
LINES = 3


def churn_config(work: Path, port: int) -> str:
    return (
        "[SERVICE]\n"
        "    Flush            0.2\n"
        "    Grace            5\n"
        "    Log_Level        info\n"
        "    HTTP_Server      On\n"
        "    HTTP_Listen      127.0.0.1\n"
        f"    HTTP_Port        {port}\n"
        "\n[INPUT]\n"
        "    Name             tail\n"
        f"    Path             {work / 'logs'}/*.log\n"
        "    Tag              pod.*\n"
        f"    DB               {work / 'offsets.db'}\n"
        "    Read_from_Head   On\n"
        "    Refresh_Interval 1\n"
        "    Rotate_Wait      0.2\n"
        "\n[OUTPUT]\n"
        "    Name             file\n"
        "    Match            pod.*\n"
        f"    Path             {work / 'out'}\n"
        "    File             records.log\n"
        "    Format           plain\n"
    )


def held_open(pid: int) -> set[str]:
    """The files a process has open."""
    fds = Path(f"/proc/{pid}/fd")
    held = set()
    for fd in fds.iterdir():
        try:
            held.add(os.readlink(fd))
        except OSError:
            continue
    return held


def churn(logs: Path, reader: int) -> tuple[set[str], int]:
    """Create FILES files at PER_SECOND, each deleted LIFETIME s after it was written.

    A file is deleted only once the reader has opened it (a file deleted
    unseen is another matter).  Returns the lines written and how many files
    were created on the inode of a file deleted earlier in the run.  Every
    line is unique, so a file on a reused inode never looks like the deleted one.
    """
    written: set[str] = set()
    freed: set[int] = set()
    reused = 0
    alive: list[tuple[float, Path]] = []
    start = time.monotonic()
    held: set[str] = set()
    for n in range(FILES):
        while alive and alive[0][0] <= time.monotonic():
            path = alive[0][1]
            if str(path) not in held:
                held = held_open(reader)
                if str(path) not in held:
                    break
            alive.pop(0)
            freed.add(path.stat().st_ino)
            path.unlink()
        path = logs / f"pod-{n:04d}.log"
        lines = [f"pod {n:04d} line {i}" for i in range(LINES)]
        path.write_text("".join(line + "\n" for line in lines))
        written.update(lines)
        if path.stat().st_ino in freed:
            reused += 1
        alive.append((time.monotonic() + LIFETIME, path))
        time.sleep(max(0.0, start + (n + 1) / PER_SECOND - time.monotonic()))
    for due, path in alive:
        time.sleep(max(0.0, due - time.monotonic()))
        name = str(path)
        wait_for(lambda: name in held_open(reader), 10, 0.05, f"{path.name} opened")  # noqa: B023 - used at once
        path.unlink()
    return written, reused


def delivered(out: Path) -> list[str]:
    if not out.exists():
        return []
    return [orjson.loads(line)["log"] for line in out.read_bytes().splitlines() if line.strip()]


@pytest.mark.slow
def test_new_files_on_reused_inodes_are_read_from_their_first_line(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "out").mkdir()
    config = tmp_path / "shipper.conf"
    port = free_port()
    config.write_text(churn_config(tmp_path, port))
    shipper = Shipper(config, tmp_path / "shipper.log", child_env(tmp_path), port)
    records = tmp_path / "out" / "records.log"
    try:
        shipper.start().wait_ready()
        written, reused = churn(tmp_path / "logs", shipper.pid)
        if reused == 0:
            pytest.skip(f"this filesystem ({os.statvfs(tmp_path).f_fsid:x}) did not reuse a freed inode")
        eventually(lambda: written <= set(delivered(records)), 20, 0.3)
        counted = shipper.metric("shipper_tail_inode_reused_total")
        assert shipper.stop() == 0
    finally:
        shipper.ensure_stopped()
    got = delivered(records)
    missing = written - set(got)
    lost_files = {line[:8] for line in missing}
    print(f"\n{FILES} files, {reused} on a reused inode: {len(missing)} lines lost in {len(lost_files)} files, "
          f"{counted:g} reuses counted")
    assert not missing, f"{len(missing)} lines lost in {len(lost_files)} files, e.g. {sorted(missing)[:5]}"
    assert len(got) == len(written), "duplicates"
    assert counted >= 1
