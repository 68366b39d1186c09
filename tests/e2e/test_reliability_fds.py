"""More log files than ``ulimit -n``: every file is read, and outputs and the monitoring server keep working.

With 600 files and a limit of 256 descriptors, tail holds at most 192
open (a quarter of the limit is kept for everything else), closes files it
has read to the end and delivered, and opens the rest as descriptors come
free (``shipper_tail_files_parked_total`` counts the closings).  Every file
is then written again, so closed files are reopened by identity and read on
from where they were left (:func:`bench.reliability.descriptor_scenario`;
``python -m bench.reliability descriptors --full`` runs 1,000 files under 512).
"""

from __future__ import annotations

import resource
from pathlib import Path

import pytest

from bench.reliability import descriptor_scenario
from shipper.inputs.tail.handles import RAISED_LIMIT, file_limit, raise_file_limit


@pytest.mark.slow
def test_more_files_than_the_descriptor_limit_are_all_read(tmp_path: Path) -> None:
    report = descriptor_scenario(tmp_path, files=600, file_limit=256)
    print(f"\n{report.summary()}")
    assert not report.missing_first, f"{len(report.missing_first)} lines of the first round missing"
    assert not report.missing, f"{len(report.missing)} lines missing, e.g. {sorted(report.missing)[:3]}"
    assert len(report.delivered) == len(report.written)
    assert report.answered
    assert report.parked > 0
    assert "Too many open files" not in report.log


def test_the_budget_keeps_a_quarter_of_the_limit_for_everything_else() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (512, hard))
        assert file_limit() == 384
        resource.setrlimit(resource.RLIMIT_NOFILE, (100, hard))
        assert file_limit() == 36  # at least 64 kept
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_run_raises_the_soft_limit_towards_the_hard_one() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
        raise_file_limit()
        raised = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        assert raised == (RAISED_LIMIT if hard == resource.RLIM_INFINITY else min(hard, RAISED_LIMIT))
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
