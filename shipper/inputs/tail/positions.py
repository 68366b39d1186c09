"""Where each tailed file starts, and where its committed progress is kept.

Four sources say where to start a file, in this order: where this process
left a file it stopped reading (a rotated name that still matches ``Path``),
the offsets a reloaded configuration's previous tail committed, the DB row
of the file's inode, and finally ``Read_from_Head``.  Committed offsets go
to the DB; a DB that cannot be opened or written is reported and counted,
and reading goes on.

None of the first three trusts the inode alone.  Pods come and go: a deleted
file's inode number goes to the next file created, often at once, so each
remembered position carries the digest of the bytes before it, and one left
by a deleted file is never taken up.  A new file on a remembered inode is read
from 0 and counted (``shipper_tail_inode_reused_total``).
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable, Iterator

from shipper.inputs.tail.offsets import Left, OffsetsDB, Row, digest_before, still_there
from shipper.inputs.tail.paths import Found
from shipper.inputs.tail.reader import TailFile

#: deleted files remembered at most (their inodes are watched for reuse only to count it).
FORGET_DELETED_AFTER = 4096

#: committed positions by input instance name, from a tail that stopped to the one a reload starts.
_HANDOVER: dict[str, dict[tuple[str, int, int], Left]] = {}


class Positions:
    """Start offsets and committed offsets of one tail input's files."""

    def __init__(self, instance_name: str, log: logging.Logger, report: Callable[[str], None],
                 count: Callable[[str], None]) -> None:
        self.instance_name = instance_name
        self.log = log
        #: called with a message when the DB fails (the input logs and counts it).
        self.report = report
        #: the input's counter, for the metrics named in the module docstring.
        self.count = count
        self.db: OffsetsDB | None = None
        self.rows: dict[int, Row] = {}
        #: where retired files were left, so a rotated name that still matches Path is not read twice.
        self.finished: dict[tuple[int, int], Left] = {}
        self.handover: dict[tuple[str, int, int], Left] = {}

    def take_over(self) -> None:
        """Pick up what the previous tail of this name committed (called when reading starts, which
        on a reload is after the old pipeline stopped; a pipeline is built before that)."""
        self.handover = _HANDOVER.pop(self.instance_name, {})

    def open_db(self, path: str, sync: str, locking: bool, journal_mode: str) -> None:
        try:
            self.db = OffsetsDB(path, sync, locking, journal_mode)
            self.rows = self.db.rows()
        except (sqlite3.Error, OSError) as exc:
            self.db = None
            self.report(f"cannot open DB {path} ({exc}): reading WITHOUT an offsets database; a restart will "
                        "start files from Read_from_Head again")

    def start(self, fd: int, st: os.stat_result, found: Found, from_head: bool) -> int:
        """Where to start a newly opened file."""
        key = (st.st_dev, st.st_ino)
        # the DB row goes whichever source decides: a row left behind would make rotated_away()
        # open this file a second time as "rotated while stopped"
        row = self.rows.pop(st.st_ino, None)
        left = self.finished.pop(key, None) or self.handover.pop((found.real, *key), None)
        if left is not None:
            if left.fits(fd, st.st_size):
                return left.offset
            self._reused(found, "a file tail read before")
            return 0
        if row is not None:
            if still_there(fd, st.st_size, row.offset, row.digest):
                return row.offset
            self._reused(found, "the file the DB remembers (replaced while stopped)")
            return 0
        if any(r.name == found.real for r in self.rows.values()):
            self.log.info("%s: a new file under a known name (replaced while stopped); reading it from the start",
                          found.shown)
            return 0
        return 0 if from_head else st.st_size

    def rotated_away(self) -> Iterator[tuple[Row, str]]:
        """DB rows of files no longer under Path, found by inode next to their resolved old path.

        Rows whose file is gone are deleted.  Call once, after the first scan.
        """
        for row in list(self.rows.values()):
            directory = os.path.dirname(os.path.realpath(row.name))
            try:
                entries = list(os.scandir(directory))
            except OSError:
                entries = []
            match = next((e for e in entries if e.is_file(follow_symlinks=False) and e.inode() == row.inode), None)
            if match is None:
                self._done(self.db.delete(row.inode) if self.db else True)
            else:
                yield row, match.path
        self.rows.clear()

    def keep_seen(self, seen: set[tuple[int, int]]) -> None:
        """Forget retired files no longer under Path (a deleted one's inode may come back: keep that)."""
        self.finished = {key: left for key, left in self.finished.items() if left.deleted or key in seen}
        if len(self.finished) > FORGET_DELETED_AFTER:
            deleted = [key for key, left in self.finished.items() if left.deleted]
            for key in deleted[:len(deleted) - FORGET_DELETED_AFTER // 2]:
                del self.finished[key]

    def save(self, tail: TailFile, offset: int | None = None) -> None:
        """Commit a file's offset (its committed one unless given)."""
        if self.db is not None and tail.fd >= 0:
            offset = tail.window.committed if offset is None else offset
            self._done(self.db.save(tail.ino, tail.real, offset, tail.rotated_at is not None,
                                    digest_before(tail.fd, offset)))

    def retired(self, tail: TailFile) -> None:
        """A file is no longer read (its handle still open): remember where it was left."""
        self.finished[tail.key] = Left.of(tail.fd, tail.offset) if tail.fd >= 0 else Left(tail.offset, b"", True)

    def closing(self, tail: TailFile) -> None:
        """A retired file's last chunk is acknowledged: keep its row, or drop it when the file is deleted."""
        if self.db is None:
            return
        if tail.fd < 0 or os.fstat(tail.fd).st_nlink == 0:  # closed means gone while parked (handles.py)
            self._done(self.db.delete(tail.ino))
        else:
            self.save(tail)

    def hand_over(self, tails: list[TailFile]) -> None:
        """The input stops: leave committed offsets for a tail a reload may start."""
        handover = _HANDOVER.setdefault(self.instance_name, {})
        for tail in tails:
            if tail.fd >= 0:
                handover[(tail.real, *tail.key)] = Left.of(tail.fd, tail.window.committed)
            elif tail.parked is not None:
                handover[(tail.real, *tail.key)] = tail.parked

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None

    def _reused(self, found: Found, what: str) -> None:
        self.count("shipper_tail_inode_reused_total")
        self.log.debug("%s: a new file on the inode of %s; reading it from the start", found.shown, what)

    def _done(self, ok: bool) -> None:
        if not ok and self.db is not None:
            self.report(f"offset not saved: {self.db.last_error}")
