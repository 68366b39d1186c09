"""copytruncate rotation under load: tail notices every truncation and loses only the rotation window.

copytruncate copies the file and truncates it in place; lines written after
tail's last read and before the copy exist only in the copy, which does not
match ``Path`` — that loss is inherent (docs/reliability.md, "Known limits").
What tail must do is notice every truncation (``shipper_tail_truncations_total``)
and read the regrown file from its start, so a lost line is always one of the
last lines before a rotation, never a line in the middle of a generation.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.reliability import Setup, Writer, child_env, delivered
from tests.poll import eventually
from tests.servers.moto import MotoServer

FILES, LINES, ROTATE_EVERY = 10, 1000, 300
RATE = 500
#: lines before a rotation that tail may not have read when the file is copied and truncated:
#: two seconds of one file's lines (tail gathers up to a second of lines per chunk)
WINDOW = 2 * RATE // FILES


def run_copytruncate(tmp_path: Path, moto: MotoServer, rate: float) -> tuple[set[tuple[int, int]], float]:
    """Missing lines and detected truncations after one copytruncate run at ``rate`` lines/s."""
    moto.reset()
    setup = Setup(tmp_path, moto.url)
    shipper = setup.shipper()
    writer = Writer(setup.logs, FILES, LINES, rate, ROTATE_EVERY, rotation="copytruncate", env=child_env(tmp_path))
    try:
        shipper.start().wait_ready()
        writer.wait(timeout=60)
        expected = writer.expected
        eventually(lambda: expected <= set(delivered(moto.url)), 10, 0.5)
        truncations = shipper.metric("shipper_tail_truncations_total")
        assert shipper.stop() == 0
    finally:
        writer.stop()
        shipper.ensure_stopped()
    return expected - set(delivered(moto.url)), truncations


def outside_rotation_window(missing: set[tuple[int, int]]) -> list[tuple[int, int]]:
    """Lost lines that were not among the last WINDOW lines before a rotation."""
    last_rotation = LINES - LINES % ROTATE_EVERY
    return sorted((f, s) for f, s in missing if ROTATE_EVERY - s % ROTATE_EVERY > WINDOW or s >= last_rotation)


@pytest.mark.slow
def test_copytruncate_at_a_moderate_rate_loses_only_the_rotation_window(tmp_path: Path, moto_server: MotoServer) -> None:  # noqa: F811
    missing, truncations = run_copytruncate(tmp_path, moto_server, rate=RATE)
    print(f"\ncopytruncate at {RATE} lines/s: {len(missing)} of {FILES * LINES} lines lost, {truncations:g} truncations seen")
    assert truncations == FILES * (LINES // ROTATE_EVERY)
    assert outside_rotation_window(missing) == []
