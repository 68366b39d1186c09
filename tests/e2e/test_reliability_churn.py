"""Pod churn: files created and deleted quickly, so new files land on inodes tail has just let go of.

ext4, overlayfs and tmpfs hand a freed inode number to the next file created
at once.  A new file on such an inode must be read from its first byte, not
from where tail left the deleted file that had the same (device, inode), and
each such reuse tail notices is counted (``shipper_tail_inode_reused_total``).
The scenario is :func:`bench.reliability.churn_scenario` (300 files at 100/s,
each deleted a second after shipper opened it); ``python -m bench.reliability
churn --full`` runs the issue's 2,000.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.reliability import churn_scenario


@pytest.mark.slow
def test_new_files_on_reused_inodes_are_read_from_their_first_line(tmp_path: Path) -> None:
    report = churn_scenario(tmp_path)
    print(f"\n{report.summary()}")
    if report.reused == 0:
        pytest.skip(f"this filesystem ({os.statvfs(tmp_path).f_fsid:x}) did not reuse a freed inode")
    assert not report.missing, f"{len(report.missing)} lines lost, e.g. {sorted(report.missing)[:5]}"
    assert len(report.delivered) == len(report.written), "duplicates"
    assert report.counted >= 1
