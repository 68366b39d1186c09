"""The reference floor: a bare Python loop doing only the decoding work.

1 MiB reads, ``bytes.split``, the CRI split and (with ``--json``) orjson
loads of the message and dumps of the record: what any Python shipper must
at least spend.  shipper's figures are judged against this on the same
machine, at the same moment (the issue's target: within 1.4x).
"""

from __future__ import annotations

import argparse
import glob
import resource
import time

import orjson


def run(pattern: str, parse_json: bool) -> tuple[int, int, float]:
    """Decode every file matching ``pattern``; returns (bytes, records, CPU seconds)."""
    before = resource.getrusage(resource.RUSAGE_SELF)
    total = records = 0
    for path in sorted(glob.glob(pattern)):
        with open(path, "rb") as handle:
            rest = b""
            while chunk := handle.read(1 << 20):
                total += len(chunk)
                lines = (rest + chunk).split(b"\n")
                rest = lines.pop()
                for line in lines:
                    stamp, stream, tag, text = line.decode("utf-8", "replace").split(" ", 3)
                    record = {"time": stamp, "stream": stream, "_p": tag, "log": text}
                    if parse_json and text.startswith("{"):
                        record.update(orjson.loads(text))
                        orjson.dumps(record)
                    records += 1
    after = resource.getrusage(resource.RUSAGE_SELF)
    return total, records, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


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
