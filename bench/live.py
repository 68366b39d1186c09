"""Steady-state cost of tailing: many files written slowly, as on a DaemonSet node.

``python -m bench.live`` starts ``shipper run`` (tail with ``multiline.parser
cri`` → null) on N empty files, appends CRI lines round-robin at a fixed total
rate for a while, stops shipper with SIGTERM and reports its CPU time per
second of writing, net of the start-up cost measured on an idle run.  This is
the figure that matters for a node agent: what a quiet node pays, not what a
flood costs.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.run import REPO

_CONFIG = """[SERVICE]
    Flush      1
    Log_Level  warn
[INPUT]
    Name              tail
    Path              {logs}/*.log
    multiline.parser  cri
    Inotify_Watcher   {inotify}
[OUTPUT]
    Name   null
    Match  *
"""
_MESSAGE = ('{"level":"info","logger":"com.example.order.Service","msg":"processed order request for customer 123456",'
            '"request_id":"17fc695a07a0ca6e","latency_ms":224}')


def measure(work: Path, files: int, rate: float, seconds: float, inotify: bool) -> tuple[float, int]:
    """Write ``rate`` lines/s over ``files`` files for ``seconds``; returns (shipper CPU s, lines written)."""
    logs = work / "live-logs"
    logs.mkdir(parents=True, exist_ok=True)
    for old in logs.glob("*.log"):
        old.unlink()
    handles = [(logs / f"pod{i:04d}.log").open("a") for i in range(files)]
    config = work / "live.conf"
    config.write_text(_CONFIG.format(logs=logs, inotify="true" if inotify else "false"))
    child = subprocess.Popen([sys.executable, "-m", "shipper", "run", "-c", str(config)], cwd=REPO)
    written = 0
    try:
        time.sleep(1.5)  # start-up
        start = time.monotonic()
        while (elapsed := time.monotonic() - start) < seconds:
            due = int(elapsed * rate)
            while written < due:
                handle = handles[written % files]
                handle.write(f"2024-03-05T10:15:30.000000001Z stdout F {_MESSAGE}\n")
                handle.flush()
                written += 1
            time.sleep(0.005)
    finally:
        for handle in handles:
            handle.close()
        child.send_signal(signal.SIGTERM)
        _, _, usage = os.wait4(child.pid, 0)
    return usage.ru_utime + usage.ru_stime, written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.live", description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--rate", type=float, default=1000.0, help="lines per second over all files")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--no-inotify", action="store_true", help="Inotify_Watcher false (stat polling)")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/shipper-bench"))
    args = parser.parse_args(argv)
    idle_cpu, _ = measure(args.cache, args.files, 0.0, 1.0, not args.no_inotify)
    cpu, written = measure(args.cache, args.files, args.rate, args.seconds, not args.no_inotify)
    net = max(cpu - idle_cpu, 0.0)
    print(f"{args.files} files, {written / args.seconds:.0f} lines/s for {args.seconds:g}s "
          f"({'stat polling' if args.no_inotify else 'inotify'}): shipper used {cpu:.2f} CPU s, "
          f"{net:.2f} net of start-up = {100 * net / args.seconds:.1f}% of one CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
