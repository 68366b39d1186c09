"""Write a file so that a reader (or a restart after kill -9) sees the old content or the new, never half.

The data goes to ``<name>.tmp`` beside the target and is renamed over it.  A
write that fails (a full disk) removes its partial temporary file at once, so
ENOSPC does not leave litter that only the next start would clean up.
"""

from __future__ import annotations

import os
from pathlib import Path


def write_atomic(path: Path, data: bytes, sync: bool = False) -> None:
    """Replace ``path`` with ``data``; with ``sync`` the data is on disk before the rename."""
    temp = path.with_name(path.name + ".tmp")
    try:
        with open(temp, "wb") as fh:
            fh.write(data)
            if sync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(temp, path)
    except OSError:
        temp.unlink(missing_ok=True)
        raise
