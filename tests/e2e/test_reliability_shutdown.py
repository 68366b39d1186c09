"""Shutdown while the sink is down: SIGTERM drains within Grace, a second signal exits at once, nothing is lost.

The proxy answers every PutLogEvents with 503, so nothing can be delivered;
the shipper must still exit (0) — after ``Grace`` on one SIGTERM, without
waiting on a second — and since no offset was committed, the next run
(sink healthy again) delivers every line.  The waits are bounded liveness
checks, not timings: "at once" means well before a 60 s Grace.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.reliability import Setup, Shipper, delivered
from tests.e2e.writer import make_line
from tests.poll import eventually, wait_for
from tests.servers.moto import MotoServer, RecordingProxy

LINES = 1000


def start_with_sink_down(tmp_path: Path, moto: MotoServer, proxy: RecordingProxy, grace: float) -> tuple[Setup, Shipper]:
    """A shipper that has read every line of one file while every PutLogEvents fails."""
    proxy.fail("PutLogEvents", 503, "ServiceUnavailableException", "sink down", times=10**9)
    # a long backoff: at the signal the worker is waiting to retry, not in the middle of a call
    setup = Setup(tmp_path, proxy.url, grace=grace, scheduler_base=5, scheduler_cap=10)
    shipper = setup.shipper()
    (setup.logs / "app-00.log").write_text("".join(make_line(0, seq, 100) for seq in range(LINES)))
    shipper.start().wait_ready()
    wait_for(lambda: shipper.metric("fluentbit_input_records_total") >= LINES, 20, 0.1, "file read")
    wait_for(lambda: shipper.metric("fluentbit_output_retries_total") > 0, 20, 0.1, "sink refusing")
    return setup, shipper


def restart_and_collect(setup: Setup, moto: MotoServer, proxy: RecordingProxy) -> set[tuple[int, int]]:
    """Sink healthy again: a new run delivers what the stopped one left unacknowledged."""
    proxy.clear()
    shipper = setup.shipper().start()
    try:
        shipper.wait_ready()
        wanted = {(0, s) for s in range(LINES)}
        eventually(lambda: wanted <= set(delivered(moto.url)), 30, 0.3)
        assert shipper.stop() == 0
    finally:
        shipper.ensure_stopped()
    return wanted - set(delivered(moto.url))


def shut_down_with_sink_down(tmp_path: Path, moto: MotoServer, proxy: RecordingProxy, grace: float,
                             signals: int) -> tuple[str, set[tuple[int, int]]]:
    """Send ``signals`` SIGTERMs to a shipper whose sink is down; its log and the lines a restart missed."""
    moto.reset()
    setup, shipper = start_with_sink_down(tmp_path, moto, proxy, grace=grace)
    try:
        assert shipper.process is not None
        for _ in range(signals - 1):
            shipper.process.terminate()
            wait_for(lambda: "draining for up to" in shipper.log_text(), 10, 0.1, "first SIGTERM seen")
        assert shipper.stop(timeout=12) == 0  # bounded: Grace 2 plus margin; Grace 60 is never waited for
    finally:
        shipper.ensure_stopped()
    return shipper.log_text(), restart_and_collect(setup, moto, proxy)


@pytest.mark.slow
def test_sigterm_with_the_sink_down_exits_after_grace_and_loses_nothing(
    tmp_path: Path, moto_server: MotoServer, moto_proxy: RecordingProxy  # noqa: F811
) -> None:
    log, missing = shut_down_with_sink_down(tmp_path, moto_server, moto_proxy, grace=2, signals=1)
    assert "not delivered within Grace" in log
    assert not missing


@pytest.mark.slow
def test_a_second_sigterm_exits_at_once_and_loses_nothing(
    tmp_path: Path, moto_server: MotoServer, moto_proxy: RecordingProxy  # noqa: F811
) -> None:
    log, missing = shut_down_with_sink_down(tmp_path, moto_server, moto_proxy, grace=60, signals=2)
    assert "exiting without waiting" in log
    assert not missing
