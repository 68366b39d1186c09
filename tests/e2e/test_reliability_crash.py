"""kill -9 at random moments while files rotate: every line arrives at least once.

The scenario lives in :mod:`bench.reliability` (the same code produces the
figures in docs/reliability.md).  The default size is modest (20 files x
2,000 lines); ``SHIPPER_RELIABILITY_FULL=1`` runs the issue's 200,000 lines.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.reliability import (
    Setup,
    crash_scenario,
    delivered,
    full_crash_scenario,
)
from tests.e2e.writer import make_line
from tests.poll import eventually, wait_for
from tests.servers.moto import MotoServer

FULL = os.environ.get("SHIPPER_RELIABILITY_FULL") == "1"


@pytest.mark.slow
def test_kill_9_at_random_points_loses_no_line(tmp_path: Path, moto_server: MotoServer) -> None:  # noqa: F811
    report = full_crash_scenario(tmp_path, moto_server) if FULL else crash_scenario(tmp_path, moto_server, seed=8)
    print(f"\nkill -9 after {[round(k, 2) for k in report.kill_after]} s; "
          f"duplicates per crash {report.duplicates_per_crash}; {report.seconds:.1f}s")
    assert len(report.kill_after) == 5
    assert not report.missing, f"{len(report.missing)} lines lost, e.g. {sorted(report.missing)[:5]}"
    assert report.delivered >= report.expected
    # duplicates are bounded by what was in flight: never a whole re-read of the files
    assert all(d < report.expected // 2 for d in report.duplicates_per_crash)


def test_file_rotated_while_stopped_before_any_ack_is_read_after_restart(
    tmp_path: Path, moto_server: MotoServer  # noqa: F811
) -> None:
    """A file tail opened but had nothing acknowledged of yet still has a DB row, found after a restart."""
    # Flush 60: tail opens and reads the file but nothing is delivered, so nothing is acknowledged
    moto_server.reset()
    setup = Setup(tmp_path, moto_server.url, flush=60)
    first = setup.shipper()
    log = setup.logs / "app-00.log"
    log.write_text("".join(make_line(0, seq, 100) for seq in range(100)))
    first.start()
    try:
        first.wait_ready()
        wait_for(lambda: first.metric("fluentbit_input_records_total") >= 100, 20, 0.1, "file read")
        first.kill9()
    finally:
        first.ensure_stopped()
    os.rename(log, log.with_name("app-00.log.1"))  # rotated while shipper is down
    log.write_text("".join(make_line(0, seq, 100) for seq in range(100, 110)))
    setup.flush = 0.2
    second = setup.shipper().start()
    try:
        second.wait_ready()
        wanted = {(0, s) for s in range(110)}
        eventually(lambda: wanted <= set(delivered(moto_server.url)), 20, 0.3)
        got = set(delivered(moto_server.url))
        assert second.stop() == 0
    finally:
        second.ensure_stopped()
    missing = wanted - got
    assert not missing, f"{len(missing)} lines lost, e.g. {sorted(missing)[:5]}"
