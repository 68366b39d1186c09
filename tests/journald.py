"""Real journal files for tests, written by systemd's own ``systemd-journal-remote``.

The tool reads journal export format on stdin and writes a journal file, so
a test chooses every field and timestamp of every entry without a running
journald.  Debian ships it in the ``systemd-journal-remote`` package, which
``.ci/run`` installs.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

#: where Debian installs the tool (it is not on PATH).
CANDIDATES = ("/usr/lib/systemd/systemd-journal-remote", "/lib/systemd/systemd-journal-remote")
BOOT_ID = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"

Fields = Mapping[str, str | list[str]]


def journal_remote() -> str:
    """The path of systemd-journal-remote; skips the test when it is not installed."""
    found = shutil.which("systemd-journal-remote") or next((p for p in CANDIDATES if os.access(p, os.X_OK)), None)
    if found is None:
        pytest.skip("systemd-journal-remote is not installed (apt-get install systemd-journal-remote)")
    return found


def export_entry(fields: Fields, realtime_usec: int, monotonic_usec: int) -> bytes:
    """One entry in journal export format; values with a newline use the binary form."""
    out = [f"__REALTIME_TIMESTAMP={realtime_usec}\n__MONOTONIC_TIMESTAMP={monotonic_usec}\n_BOOT_ID={BOOT_ID}\n".encode()]
    for key, value in fields.items():
        for one in value if isinstance(value, list) else [value]:
            data = one.encode()
            if b"\n" in data:
                out.append(key.encode() + b"\n" + struct.pack("<Q", len(data)) + data + b"\n")
            else:
                out.append(key.encode() + b"=" + data + b"\n")
    return b"".join(out) + b"\n"


def write_journal(directory: Path, entries: Iterable[Fields], start_usec: int | None = None,
                  name: str = "system.journal") -> Path:
    """Append entries to ``directory/name``, one microsecond apart from ``start_usec`` (default: now).

    Calling it again on the same file appends, as journald would.
    """
    directory.mkdir(parents=True, exist_ok=True)
    start = time.time_ns() // 1000 if start_usec is None else start_usec
    stream = b"".join(export_entry(fields, start + i, 1_000_000 + start % 1_000_000_000 + i)
                      for i, fields in enumerate(entries))
    target = directory / name
    subprocess.run([journal_remote(), "-o", str(target), "-"], input=stream, check=True, capture_output=True,
                   timeout=60)
    return target
