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
from statistics import mean

import pytest

from bench.reliability import OutageReport, RestartableMoto, outage_scenario
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


@pytest.fixture(scope="module")
def in_memory(sink, tmp_path_factory: pytest.TempPathFactory) -> OutageReport:
    """One outage with memory buffering (the input pauses at Mem_Buf_Limit)."""
    moto, proxy = sink
    return outage_scenario(tmp_path_factory.mktemp("memory"), moto, proxy, outage=OUTAGE)


@pytest.mark.slow
def test_everything_arrives_after_the_sink_comes_back(in_memory: OutageReport) -> None:
    report = in_memory
    print(f"\n{report.summary()}")
    assert report.newest_per_file == {f: report.last_seq for f in report.newest_per_file}
    assert report.outage_seconds >= OUTAGE
    assert not report.missing, f"{len(report.missing)} lines lost, e.g. {sorted(report.missing)[:5]}"
    assert report.retries > 0  # the outage was seen and retried, not skipped
    assert report.dropped_records == 0


@pytest.mark.slow
def test_backlog_after_an_outage_is_sent_in_few_requests(in_memory: OutageReport) -> None:
    # 15,000 lines over 10 tags fit in 10-20 PutLogEvents of up to 10,000 events; allow 2.5 times that
    assert in_memory.requests_after_outage <= 50


@pytest.fixture(scope="module")
def capped(sink, tmp_path_factory: pytest.TempPathFactory) -> OutageReport:
    """One outage with filesystem storage and a 64k cap, shared by the tests below."""
    moto, proxy = sink
    work = tmp_path_factory.mktemp("capped")
    return outage_scenario(work, moto, proxy, outage=OUTAGE, filesystem=True, total_limit_size="64k")


@pytest.mark.slow
def test_filesystem_storage_limit_drops_the_oldest_chunks_and_counts_them(capped: OutageReport) -> None:
    report = capped
    print(f"\n{report.summary()}")
    assert report.missing, "the storage limit should have dropped something during the outage"
    assert report.dropped_chunks > 0
    # nothing is lost silently: every missing line was counted as dropped
    assert len(report.missing) <= report.dropped_records
    assert "storage.total_limit_size" in report.log and "dropped the oldest chunk" in report.log
    # the oldest go first: the writer numbers lines round-robin at a steady rate, so a line's
    # number is its age; the last lines written survived, and what survived the outage is on
    # average younger than what was lost (chunks are per file, so not line by line)
    assert report.last_seq in report.newest_per_file.values()
    assert report.recovered
    assert mean(s for _, s in report.recovered) > mean(s for _, s in report.missing)


@pytest.mark.slow
def test_dropped_records_metric_equals_the_lines_lost(capped: OutageReport) -> None:
    assert len(capped.missing) == capped.dropped_records
