"""File identity in tail's positions: a remembered (device, inode) is not enough to resume a file.

A freed inode number goes to the next file created, so these tests stand a
new file in for the old one by giving the old one's record the new file's
(device, inode) — exactly what the kernel does on reuse — and check that
every remembered position (retired files, a reload's hand-over) is only
taken up by the file it belongs to.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from pathlib import Path

from shipper.inputs.tail.paths import Found
from shipper.inputs.tail.positions import Positions
from shipper.inputs.tail.reader import TailFile

LOG = logging.getLogger("test")


def positions(name: str = "tail.identity") -> tuple[Positions, Counter[str]]:
    counted: Counter[str] = Counter()
    return Positions(name, LOG, lambda message: None, lambda metric: counted.update([metric])), counted


def opened(path: Path) -> tuple[int, os.stat_result, Found]:
    fd = os.open(path, os.O_RDONLY)
    return fd, os.fstat(fd), Found(str(path), str(path))


def left_at_end(path: Path, key_of: os.stat_result) -> TailFile:
    """A file read to its end, recorded under another file's (device, inode)."""
    fd = os.open(path, os.O_RDONLY)
    size = os.fstat(fd).st_size
    return TailFile(str(path), str(path), "t", fd, key_of.st_dev, key_of.st_ino, size)


def test_a_new_file_on_a_deleted_files_inode_is_read_from_zero_and_counted(tmp_path: Path) -> None:
    old, new = tmp_path / "old.log", tmp_path / "new.log"
    old.write_text("pod a line 0\npod a line 1\n")
    new.write_text("pod b line 0\npod b line 1\n")  # same size: a stale offset would skip all of it
    fd, st, found = opened(new)
    pos, counted = positions()
    tail = left_at_end(old, st)
    old.unlink()
    pos.retired(tail)
    tail.close()
    try:
        assert pos.start(fd, st, found, from_head=True) == 0
    finally:
        os.close(fd)
    assert counted["shipper_tail_inode_reused_total"] == 1


def test_a_deleted_files_position_is_never_taken_even_for_identical_bytes(tmp_path: Path) -> None:
    old, new = tmp_path / "old.log", tmp_path / "new.log"
    old.write_text("same\n")
    new.write_text("same\n")
    fd, st, found = opened(new)
    pos, _ = positions()
    tail = left_at_end(old, st)
    old.unlink()
    pos.retired(tail)
    tail.close()
    pos.keep_seen(set())  # a rescan that no longer sees the deleted file keeps its inode in mind
    try:
        assert pos.start(fd, st, found, from_head=True) == 0
    finally:
        os.close(fd)


def test_a_rotated_file_is_resumed_but_other_bytes_on_its_inode_are_not(tmp_path: Path) -> None:
    rotated = tmp_path / "app.log.1"
    rotated.write_text("first\nsecond\n")
    fd, st, found = opened(rotated)
    pos, counted = positions()
    tail = left_at_end(rotated, st)
    pos.retired(tail)
    try:
        assert pos.start(fd, st, found, from_head=True) == st.st_size  # the same file under a name Path matches
        pos.retired(tail)
        rotated.write_text("other!\nbytes!\n")  # same inode, same size, different contents
        assert pos.start(fd, os.fstat(fd), found, from_head=True) == 0
    finally:
        tail.close()
        os.close(fd)
    assert counted["shipper_tail_inode_reused_total"] == 1


def test_a_reload_hands_over_positions_with_their_identity(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("one\ntwo\n")
    fd, st, found = opened(log)
    before, _ = positions("tail.reload")
    tail = left_at_end(log, st)
    tail.window.committed = st.st_size
    before.hand_over([tail])
    after, counted = positions("tail.reload")
    after.take_over()
    log.write_text("ONE\nTWO\n")  # replaced in place between the two pipelines
    try:
        assert after.start(fd, os.fstat(fd), found, from_head=True) == 0
    finally:
        tail.close()
        os.close(fd)
    assert counted["shipper_tail_inode_reused_total"] == 1
