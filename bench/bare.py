"""The reference floors: bare Python loops doing only the decoding work.

:func:`run` reads 1 MiB blocks, splits lines and the CRI prefix and (with
``--json``) orjson loads the message and dumps the record: what any Python
shipper must at least spend on tail + cri + parser.

:func:`kubernetes_floor` is issue 16's floor for the kubernetes pipelines:
the same reads and splits, partial lines joined, JSON messages loaded into
``log_processed``, the pod's ``kubernetes`` map added, and one JSON line per
record dumped.  ``python -m bench`` measures it in the same run as shipper
and reports shipper's CPU as a ratio to it.
"""

from __future__ import annotations

import argparse
import glob
import os
import resource
import time
from collections.abc import Iterator
from typing import Any

import orjson


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _blocks(path: str) -> Iterator[tuple[int, list[bytes]]]:
    """A file's complete lines in 1 MiB reads: (bytes read, lines), one split per read."""
    with open(path, "rb") as handle:
        rest = b""
        while block := handle.read(1 << 20):
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            yield len(block), lines


def run(pattern: str, parse_json: bool) -> tuple[int, int, float]:
    """Decode every file matching ``pattern``; returns (bytes, records, CPU seconds)."""
    before = _cpu()
    total = records = 0
    for path in sorted(glob.glob(pattern)):
        for size, lines in _blocks(path):
            total += size
            for line in lines:
                stamp, stream, tag, text = line.decode("utf-8", "replace").split(" ", 3)
                record = {"time": stamp, "stream": stream, "_p": tag, "log": text}
                if parse_json and text.startswith("{"):
                    record.update(orjson.loads(text))
                    orjson.dumps(record)
                records += 1
    return total, records, _cpu() - before


def kubernetes_floor(pattern: str, maps: dict[str, dict[str, Any]]) -> tuple[int, int, float]:
    """Issue 16's floor over every file matching ``pattern``; ``maps`` gives each file's kubernetes map.

    Returns (bytes, records, CPU seconds).  The output lines are built and
    thrown away: writing them is the kernel's work, not the floor's.
    """
    before = _cpu()
    total = records = 0
    for path in sorted(glob.glob(pattern)):
        kube = maps.get(os.path.basename(path), {})
        pending: list[str] = []
        for size, lines in _blocks(path):
            total += size
            for line in lines:
                stamp, stream, flag, text = line.decode("utf-8", "replace").split(" ", 3)
                if flag == "P":
                    pending.append(text)
                    continue
                if pending:
                    pending.append(text)
                    text = "".join(pending)
                    pending = []
                record: dict[str, Any] = {"time": stamp, "stream": stream, "_p": flag, "log": text}
                if text.startswith("{"):
                    record["log_processed"] = orjson.loads(text)
                record["kubernetes"] = kube
                orjson.dumps(record)
                records += 1
    return total, records, _cpu() - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pattern", help="glob of CRI log files")
    parser.add_argument("--json", action="store_true", help="also orjson loads/dumps JSON messages")
    args = parser.parse_args()
    start = time.perf_counter()
    size, records, cpu = run(args.pattern, args.json)
    print(f"{size / 1e6:.0f} MB, {records} records: {size / 1e6 / cpu:.1f} MB per CPU-second, "
          f"{time.perf_counter() - start:.2f} s wall")


if __name__ == "__main__":
    main()
