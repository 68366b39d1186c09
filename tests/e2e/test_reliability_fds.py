"""More log files than ``ulimit -n``: every file is read, and outputs and the monitoring server keep working.

With 600 files and a limit of 256 descriptors, tail holds at most 192
open (a quarter of the limit is kept for everything else), closes files it
has read to the end and delivered, and opens the rest as descriptors come
free (``shipper_tail_files_parked_total`` counts the closings).  Files that
are written again after being closed are reopened by identity and read on
from where they were left.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from bench.reliability import Shipper, child_env, eventually
from tests.servers.moto import free_port

LIMIT = 256
FILES = 600
LINES = 5


def config(work: Path, port: int) -> str:
    return (
        "[SERVICE]\n    Flush 0.2\n    Grace 5\n    Log_Level info\n"
        f"    HTTP_Server On\n    HTTP_Listen 127.0.0.1\n    HTTP_Port {port}\n"
        f"[INPUT]\n    Name tail\n    Path {work}/logs/*.log\n    Tag pod.*\n    DB {work}/offsets.db\n"
        "    Read_from_Head On\n    Refresh_Interval 1\n"
        f"[OUTPUT]\n    Name file\n    Match pod.*\n    Path {work}/out\n    File records.log\n    Format plain\n"
    )


def write_lines(logs: Path, first: int) -> set[str]:
    lines = set()
    for n in range(FILES):
        batch = [f"file {n:04d} line {i}" for i in range(first, first + LINES)]
        with (logs / f"pod-{n:04d}.log").open("a") as handle:
            handle.writelines(line + "\n" for line in batch)
        lines.update(batch)
    return lines


def delivered(out: Path) -> list[str]:
    if not out.exists():
        return []
    return [orjson.loads(line)["log"] for line in out.read_bytes().splitlines() if line.strip()]


@pytest.mark.slow
def test_more_files_than_the_descriptor_limit_are_all_read(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "out").mkdir()
    records = tmp_path / "out" / "records.log"
    written = write_lines(tmp_path / "logs", 0)
    port = free_port()
    path = tmp_path / "shipper.conf"
    path.write_text(config(tmp_path, port))
    shipper = Shipper(path, tmp_path / "shipper.log", child_env(tmp_path), port, file_limit=LIMIT)
    try:
        shipper.start().wait_ready()
        eventually(lambda: written <= set(delivered(records)), 60, 0.3)
        assert shipper.answering()
        first_round = written - set(delivered(records))
        written |= write_lines(tmp_path / "logs", LINES)  # every file again, most of them closed by now
        eventually(lambda: written <= set(delivered(records)), 60, 0.3)
        parked = shipper.metric("shipper_tail_files_parked_total")
        assert shipper.stop() == 0
    finally:
        shipper.ensure_stopped()
    got = delivered(records)
    missing = written - set(got)
    print(f"\n{FILES} files, ulimit -n {LIMIT}: {len(missing)} of {len(written)} lines missing, "
          f"{len(got) - len(set(got))} duplicates, {parked:g} closings of idle files")
    assert not first_round, f"{len(first_round)} lines of the first round missing"
    assert not missing, f"{len(missing)} lines missing, e.g. {sorted(missing)[:3]}"
    assert len(got) == len(written)
    assert parked > 0
    assert "Too many open files" not in shipper.log_text()


def test_the_budget_keeps_a_quarter_of_the_limit() -> None:
    import resource

    from shipper.inputs.tail.handles import file_limit

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (512, hard))
        assert file_limit() == 384
        resource.setrlimit(resource.RLIMIT_NOFILE, (100, hard))
        assert file_limit() == 36
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
