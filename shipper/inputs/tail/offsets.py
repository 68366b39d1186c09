"""The offsets database (``DB``): where each tailed file was committed up to.

One SQLite row per file, keyed by inode, with the file name, the committed
offset, a rotated flag and a digest of the bytes just before the offset.
The digest tells a file that was replaced while shipper was stopped (same
inode reused, different bytes) from the file it was reading, so the
replacement is read from 0 instead of from a stale offset.  Rows change
only when outputs acknowledge data (docs/architecture.md, "The delivery contract").

The table is ``shipper_tail_files``, not Fluent Bit's ``in_tail_files``,
so pointing ``DB`` at an existing Fluent Bit database does not clash.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from dataclasses import dataclass

#: how many bytes before the offset the digest covers.
DIGEST_SPAN = 64

_SCHEMA = """
CREATE TABLE IF NOT EXISTS shipper_tail_files (
    inode   INTEGER PRIMARY KEY,
    name    TEXT    NOT NULL,
    offset  INTEGER NOT NULL,
    rotated INTEGER NOT NULL DEFAULT 0,
    digest  BLOB    NOT NULL DEFAULT x''
)
"""


def digest_before(fd: int, offset: int) -> bytes:
    """Digest of the (up to) DIGEST_SPAN bytes that end at ``offset``."""
    start = max(0, offset - DIGEST_SPAN)
    return hashlib.blake2b(os.pread(fd, offset - start, start), digest_size=16).digest()


def still_there(fd: int, size: int, offset: int, digest: bytes) -> bool:
    """Whether an open file of ``size`` bytes can be the one left at ``offset`` with ``digest``.

    The inode alone does not say: a deleted file's inode number is given to the
    next file created (ext4, overlayfs, tmpfs), and that file must be read from 0.
    """
    return offset <= size and digest_before(fd, offset) == digest


@dataclass(frozen=True, slots=True)
class Left:
    """Where tail left a file, and what tells that file from a later one on the same inode."""

    offset: int
    digest: bytes
    #: the file had no name left: nothing found later on its inode can be it.
    deleted: bool = False

    @classmethod
    def of(cls, fd: int, offset: int) -> Left:
        return cls(offset, digest_before(fd, offset), os.fstat(fd).st_nlink == 0)

    def fits(self, fd: int, size: int) -> bool:
        return not self.deleted and still_there(fd, size, self.offset, self.digest)


@dataclass(frozen=True, slots=True)
class Row:
    inode: int
    name: str
    offset: int
    rotated: bool
    digest: bytes


class OffsetsDB:
    """A small synchronous wrapper: every call is one short statement."""

    def __init__(self, path: str, sync: str = "normal", locking: bool = False, journal_mode: str = "wal") -> None:
        """Open (creating the directory if needed); raises sqlite3.Error or OSError when impossible."""
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self.last_error = ""
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute(f"PRAGMA journal_mode={journal_mode}")
        self.conn.execute(f"PRAGMA synchronous={sync}")
        if locking:
            self.conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        self.conn.execute(_SCHEMA)

    def rows(self) -> dict[int, Row]:
        cursor = self.conn.execute("SELECT inode, name, offset, rotated, digest FROM shipper_tail_files")
        return {r[0]: Row(r[0], r[1], r[2], bool(r[3]), bytes(r[4])) for r in cursor}

    def save(self, inode: int, name: str, offset: int, rotated: bool, digest: bytes) -> bool:
        """Upsert a file's row; False (and ``last_error`` set) when SQLite refused."""
        return self._execute(
            "INSERT INTO shipper_tail_files(inode, name, offset, rotated, digest) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(inode) DO UPDATE SET name=excluded.name, offset=excluded.offset, "
            "rotated=excluded.rotated, digest=excluded.digest",
            (inode, name, offset, int(rotated), digest),
        )

    def delete(self, inode: int) -> bool:
        return self._execute("DELETE FROM shipper_tail_files WHERE inode = ?", (inode,))

    def _execute(self, sql: str, params: tuple) -> bool:
        # A full disk or a locked file must not stop reading: the caller reports it.
        try:
            self.conn.execute(sql, params)
        except sqlite3.Error as exc:
            self.last_error = str(exc)
            return False
        return True

    def close(self) -> None:
        self.conn.close()
