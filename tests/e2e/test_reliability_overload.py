"""Overload: a writer much faster than the sink; memory stays bounded, tail pauses, nothing is lost.

The sink throttles every PutLogEvents for a few seconds (through the moto
proxy) while the writer appends 20 MB (20 x Mem_Buf_Limit) at full speed.
This is a memory bound, not a timing assertion: the shipper's RSS, sampled
every 50 ms, must stay under

    idle baseline + WORKING_SET + HEADROOM_FACTOR x Mem_Buf_Limit

- the idle baseline is the process's own RSS after start-up, before any
  line is written (the interpreter, aiobotocore, the pipeline: about 70 MB);
- WORKING_SET is what the chunks in flight cost whatever the limit: tail
  gathers up to a second of lines per chunk, decoded into records, plus the
  batch being encoded and its request body, plus memory the allocator keeps
  after a peak (measured with a 1 MiB limit: +50 MB above baseline for
  20 MB written, +57 MB for 40 MB);
- ``Mem_Buf_Limit`` counts the source bytes of unacknowledged chunks,
  while a 100-byte line held as a record takes several times that.

Without backpressure the same run grows by about 85 MB (measured with a
limit above the volume written), over the bound.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.reliability import overload_scenario
from tests.servers.moto import MotoServer, RecordingProxy

MEM_BUF_LIMIT = 1 << 20
#: see the module docstring
WORKING_SET = 48 << 20
HEADROOM_FACTOR = 16


@pytest.mark.slow
def test_memory_stays_bounded_and_input_pauses_under_overload(
    tmp_path: Path, moto_server: MotoServer, moto_proxy: RecordingProxy  # noqa: F811
) -> None:
    report = overload_scenario(tmp_path, moto_server, moto_proxy, mem_buf_limit=MEM_BUF_LIMIT)
    grew = report.max_rss - report.baseline_rss
    print(f"\nwritten {report.written_bytes / 1e6:.1f} MB; RSS baseline {report.baseline_rss / 1e6:.1f} MB, "
          f"max {report.max_rss / 1e6:.1f} MB (+{grew / 1e6:.1f} MB); paused {report.paused:g} times")
    assert report.written_bytes > 16 * MEM_BUF_LIMIT  # the writer really outran the limit
    assert report.paused > 0, "the input never paused for Mem_Buf_Limit"
    assert not report.missing, f"{len(report.missing)} lines lost, e.g. {sorted(report.missing)[:5]}"
    assert report.max_rss < report.baseline_rss + WORKING_SET + HEADROOM_FACTOR * MEM_BUF_LIMIT
