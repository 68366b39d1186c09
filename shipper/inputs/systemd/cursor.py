"""The systemd input's ``DB``: the cursor of the last journal entry delivered.

The table is Fluent Bit's own (``in_systemd_cursor``: one row, the cursor and
when it was written), so a node moving from Fluent Bit to shipper resumes
where Fluent Bit stopped instead of reading the journal again.  shipper
writes the row only when outputs acknowledge the entries (Fluent Bit writes
it as soon as it reads them).
"""

from __future__ import annotations

import os
import sqlite3
import time

_SCHEMA = "CREATE TABLE IF NOT EXISTS in_systemd_cursor (cursor TEXT NOT NULL, updated INTEGER)"


class CursorDB:
    """One SQLite file holding one cursor; every call is one short statement."""

    def __init__(self, path: str, sync: str = "normal") -> None:
        """Open (creating the directory if needed); raises sqlite3.Error or OSError when impossible."""
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute(f"PRAGMA synchronous={sync}")
        self.conn.execute(_SCHEMA)

    def load(self) -> str | None:
        """The committed cursor, or None when nothing was committed yet."""
        row = self.conn.execute("SELECT cursor FROM in_systemd_cursor ORDER BY ROWID DESC LIMIT 1").fetchone()
        return row[0] if row and row[0] else None

    def save(self, cursor: str) -> None:
        """Replace the row with ``cursor``; raises sqlite3.Error when SQLite refuses."""
        now = int(time.time())
        if self.conn.execute("UPDATE in_systemd_cursor SET cursor = ?, updated = ?", (cursor, now)).rowcount == 0:
            self.conn.execute("INSERT INTO in_systemd_cursor (cursor, updated) VALUES (?, ?)", (cursor, now))

    def close(self) -> None:
        self.conn.close()
