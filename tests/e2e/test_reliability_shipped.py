"""The shipped DaemonSet config rides out a destination outage: every line arrives once the sink is back.

Fluent Bit's default ``Retry_Limit`` of 1 drops a chunk about ten seconds
into an outage; the shipped configs say ``no_limits`` with filesystem
storage and a one-minute backoff cap (``tests/deploy/test_outage_settings.py``
checks every shipped config says so).  This runs the DaemonSet config itself
(:class:`bench.reliability.ShippedSetup`) through a 20 s outage;
``python -m bench.reliability shipped`` runs the ten minutes the issue asks
for, and ``SHIPPER_SHIPPED_OUTAGE=600`` makes this test do the same.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.reliability import RestartableMoto, ShippedSetup, outage_scenario
from tests.servers.moto import RecordingProxy

OUTAGE = float(os.environ.get("SHIPPER_SHIPPED_OUTAGE", "20"))


@pytest.mark.slow
def test_the_shipped_daemonset_config_loses_nothing_in_an_outage(tmp_path: Path) -> None:
    moto = RestartableMoto().start()
    proxy = RecordingProxy(moto.url).start()
    try:
        setup = ShippedSetup(tmp_path, proxy.url)
        report = outage_scenario(tmp_path, moto, proxy, outage=OUTAGE, files=5, lines=400,
                                 rate=max(100, 2000 / OUTAGE), settle=180, setup=setup)
    finally:
        proxy.stop()
        moto.stop()
    print(f"\n{report.summary()}")
    assert report.outage_seconds >= OUTAGE
    assert report.retries > 0
    assert not report.missing, f"{len(report.missing)} of {report.expected} lines lost"
    assert report.dropped_records == 0
