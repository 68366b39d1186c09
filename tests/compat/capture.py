"""The capture output: Fluent Bit's ``file`` output in its default ``out_file`` format.

The golden harness captured records with ``[OUTPUT] Name file Match *``, whose
lines read ``tag: [sec.nsec, {json}]``.  shipper's ``file`` output writes the
same format, so the compat suite adds exactly that output and parses it back
into the ``{"tag", "time", "record"}`` shape of ``expected.jsonl``; the time
keeps every nanosecond because it is read as text, never as a float.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

CAPTURE_FILE = "capture.out"

_LINE = re.compile(r"^(?P<tag>.*?): \[(?P<sec>-?\d+)(?:\.(?P<frac>\d+))?, (?P<record>\{.*\})\]$")


def capture_section(directory: Path) -> str:
    """The ``[OUTPUT]`` section that writes every record to ``directory/capture.out``."""
    return f"[OUTPUT]\n    Name   file\n    Match  *\n    Path   {directory}\n    File   {CAPTURE_FILE}\n"


def parse_line(line: str) -> dict[str, Any]:
    """One ``tag: [sec.nsec, {json}]`` line as ``{"tag", "time", "record"}``; ValueError if malformed."""
    match = _LINE.match(line)
    if match is None:
        raise ValueError(f"not an out_file line: {line[:200]!r}")
    frac = (match["frac"] or "")[:9].ljust(9, "0")
    time_ns = int(match["sec"]) * 1_000_000_000 + int(frac)
    return {"tag": match["tag"], "time": time_ns, "record": json.loads(match["record"])}


def read_capture(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Every record in the capture file, and the lines that could not be parsed."""
    if not path.is_file():
        return [], []
    records: list[dict[str, Any]] = []
    bad: list[str] = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line:
            continue
        try:
            records.append(parse_line(line))
        except ValueError as exc:
            bad.append(str(exc))
    return records, bad
