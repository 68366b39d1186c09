"""Sink outage: moto stops under load and comes back on the same port; nothing is lost.

With memory buffering the input pauses at Mem_Buf_Limit and every line
arrives after the sink is back.  With filesystem storage and a small
``storage.total_limit_size`` the output's oldest chunks are dropped: the
lost lines are exactly counted (metric + warning) and are the oldest ones.
The default outage is 10 s; ``SHIPPER_RELIABILITY_OUTAGE=60`` runs the
issue's 60 s.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.reliability import RestartableMoto, outage_scenario
from tests.servers.moto import RecordingProxy

OUTAGE = float(os.environ.get("SHIPPER_RELIABILITY_OUTAGE", "10"))


@pytest.fixture(scope="module")
def sink() -> Iterator[tuple[RestartableMoto, RecordingProxy]]:
    """This module's own moto (it is stopped and restarted) behind a recording proxy."""
    moto = RestartableMoto().start()
    proxy = RecordingProxy(moto.url).start()
    try:
        yield moto, proxy
    finally:
        proxy.stop()
        moto.stop()


@pytest.mark.slow
def test_everything_arrives_after_the_sink_comes_back(tmp_path: Path, sink) -> None:
    moto, proxy = sink
    report = outage_scenario(tmp_path, moto, proxy, outage=OUTAGE)
    print(f"\noutage {report.outage_seconds:.1f}s, recovery {report.recovery_seconds:.1f}s, "
          f"retries {report.retries:g}, duplicates {report.delivered - report.expected}, "
          f"{report.requests_after_outage} PutLogEvents calls to catch up")
    assert report.newest_per_file == {f: report.last_seq for f in report.newest_per_file}
    assert report.outage_seconds >= OUTAGE
    assert not report.missing, f"{len(report.missing)} lines lost, e.g. {sorted(report.missing)[:5]}"
    assert report.retries > 0  # the outage was seen and retried, not skipped
    assert report.dropped_records == 0


@pytest.mark.slow
def test_filesystem_storage_limit_drops_the_oldest_chunks_and_counts_them(tmp_path: Path, sink) -> None:
    moto, proxy = sink
    report = outage_scenario(tmp_path, moto, proxy, outage=OUTAGE, filesystem=True, total_limit_size="64k")
    print(f"\noutage {report.outage_seconds:.1f}s, recovery {report.recovery_seconds:.1f}s, "
          f"lost {len(report.missing)}, counted dropped {report.dropped_records:g} "
          f"in {report.dropped_chunks:g} chunks")
    assert report.missing, "the storage limit should have dropped something during the outage"
    assert report.dropped_chunks > 0
    # nothing is lost silently: every missing line was counted as dropped
    assert len(report.missing) <= report.dropped_records
    assert "storage.total_limit_size" in report.log and "dropped the oldest chunk" in report.log
    # the oldest go first: the newest line of every file survived, and what is lost is older
    for file, seq in report.missing:
        assert seq < report.newest_per_file[file] == report.last_seq
