"""Run real pipelines over generated logs and report throughput, CPU and memory.

Each pipeline is a config file run by the real CLI (``python -m shipper
run -c``) as a subprocess with ``Exit_On_Eof On``.  The child's own CPU time
(user + sys, from ``wait4``) is what MB per CPU-second is computed from, so
a noisy machine changes the wall figures but hardly the CPU ones; peak RSS
is the child's ``ru_maxrss``.  Process start-up (about 0.3 s of imports)
is included: it is part of what a user pays.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.generate import Spec, Summary, generate

REPO = Path(__file__).resolve().parents[1]

_SERVICE = """[SERVICE]
    Flush         0.2
    Grace         30
    Log_Level     warn
    Parsers_File  {parsers}
"""
_PARSERS = """[PARSER]
    Name    json
    Format  json
"""
_TAIL = """[INPUT]
    Name              tail
    Path              {logs}/*.log
    Tag               kube.*
    multiline.parser  {multiline}
    Read_from_Head    On
    Exit_On_Eof       On
    Mem_Buf_Limit     {mem_buf_limit}
"""
_PARSER_FILTER = """[FILTER]
    Name          parser
    Match         kube.*
    Key_Name      log
    Parser        json
    Reserve_Data  On
"""
_NULL = """[OUTPUT]
    Name   null
    Match  *
"""
_FILE = """[OUTPUT]
    Name    file
    Match   *
    Path    {out}
    File    out.log
    Format  json_lines
"""

#: name -> (description, sections after the input)
PIPELINES: dict[str, tuple[str, tuple[str, ...]]] = {
    "cri-null": ("tail + {ml} -> null", (_NULL,)),
    "cri-json-null": ("tail + {ml} -> parser json (Reserve_Data) -> null", (_PARSER_FILTER, _NULL)),
    "cri-json-file": ("tail + {ml} -> parser json (Reserve_Data) -> file", (_PARSER_FILTER, _FILE)),
}


#: the tail multiline parser for each generated format.
MULTILINE = {"cri": "cri", "docker": "docker", "mixed": "docker, cri"}


@dataclass
class Result:
    name: str
    wall: float
    cpu: float
    peak_rss_mb: float
    returncode: int
    output_records: int | None = None


def data_dir(spec: Spec, cache: Path) -> tuple[Path, Summary]:
    """Generated logs for ``spec``, reused from ``cache`` when already there."""
    target = cache / spec.key()
    marker = target / "summary.txt"
    if marker.exists():
        files, size, lines, records = (int(x) for x in marker.read_text().split())
        return target / "logs", Summary(files, size, lines, records)
    summary = generate(spec, target / "logs")
    marker.write_text(f"{summary.files} {summary.bytes} {summary.lines} {summary.records}")
    return target / "logs", summary


def write_config(work: Path, logs: Path, name: str, multiline: str, mem_buf_limit: str) -> Path:
    (work / "parsers.conf").write_text(_PARSERS)
    out = work / "out"
    out.mkdir(exist_ok=True)
    sections = [_SERVICE.format(parsers=work / "parsers.conf"),
                _TAIL.format(logs=logs, multiline=multiline, mem_buf_limit=mem_buf_limit)]
    sections += [s.format(out=out) for s in PIPELINES[name][1]]
    config = work / f"{name}.conf"
    config.write_text("\n".join(sections))
    return config


def run_pipeline(config: Path, name: str, timeout: float) -> Result:
    """Run ``shipper run -c config`` and measure the child process."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "shipper", "run", "-c", str(config)], cwd=REPO,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = start + timeout
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            child.kill()
            pid, status, usage = os.wait4(child.pid, 0)
            break
        time.sleep(0.02)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    errors = child.stderr.read().decode(errors="replace") if child.stderr else ""
    if child.returncode != 0:
        print(f"  {name}: exit {child.returncode}\n{errors[-2000:]}", file=sys.stderr)
    out = config.parent / "out" / "out.log"
    records = None
    if out.exists():
        with out.open("rb") as handle:
            records = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
        out.unlink()
    return Result(name, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, child.returncode, records)


def baseline(work: Path, name: str, timeout: float) -> Result:
    """The same pipeline over an empty directory: what start-up and shutdown alone cost."""
    empty = work / "empty"
    empty.mkdir(exist_ok=True)
    return run_pipeline(write_config(work, empty, name, "cri", "8MB"), name, timeout)


def report(results: list[Result], summary: Summary, spec: Spec, idle: Result, multiline: str) -> str:
    """A Markdown table of the figures."""
    mb = summary.bytes / 1_000_000
    lines = [
        (f"Input: {mb:.0f} MB, {spec.pods} files ({spec.fmt}), {summary.lines} lines, {summary.records} records, "
         f"{spec.json_share:.0%} JSON messages."),
        (f"Machine: {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, "
         f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}."),
        (f"Start-up and shutdown alone (empty input): {idle.cpu:.2f} CPU s, {idle.wall:.2f} s wall, "
         f"{idle.peak_rss_mb:.0f} MB RSS; the net column subtracts that CPU."),
        "",
        ("| pipeline | lines/s (wall) | MB per CPU-second | net of start-up | MB/s wall | CPU s | wall s "
         "| peak RSS MB | records out |"),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        out = "-" if r.output_records is None else str(r.output_records)
        status = "" if r.returncode == 0 else f" (exit {r.returncode})"
        lines.append(
            f"| {PIPELINES[r.name][0].format(ml=multiline)}{status} | {summary.lines / r.wall:,.0f} | {mb / r.cpu:.1f} | "
            f"{mb / max(r.cpu - idle.cpu, 0.01):.1f} | {mb / r.wall:.1f} | "
            f"{r.cpu:.2f} | {r.wall:.2f} | {r.peak_rss_mb:.0f} | {out} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description="shipper end-to-end benchmark")
    parser.add_argument("--size-mb", type=float, default=100.0, help="generated input size (default 100)")
    parser.add_argument("--pods", type=int, default=100, help="number of files (default 100)")
    parser.add_argument("--format", dest="fmt", choices=("cri", "docker", "mixed"), default="cri")
    parser.add_argument("--pipelines", default=",".join(PIPELINES), help="comma list of " + ", ".join(PIPELINES))
    parser.add_argument("--mem-buf-limit", default="8MB", help="tail Mem_Buf_Limit (bounds RSS)")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/shipper-bench"), help="where generated logs live")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds before a run is killed")
    args = parser.parse_args(argv)
    spec = Spec(args.size_mb, args.pods, args.fmt)
    print(f"generating {args.size_mb:g} MB in {args.pods} files ({args.fmt}) ...", file=sys.stderr)
    logs, summary = data_dir(spec, args.cache)
    multiline = MULTILINE[args.fmt]
    work = args.cache / "work"
    work.mkdir(parents=True, exist_ok=True)
    results = []
    for name in [n.strip() for n in args.pipelines.split(",") if n.strip()]:
        if name not in PIPELINES:
            parser.error(f"unknown pipeline {name!r}")
        print(f"running {name} ...", file=sys.stderr)
        results.append(run_pipeline(write_config(work, logs, name, multiline, args.mem_buf_limit), name, args.timeout))
    idle = baseline(work, "cri-null", args.timeout)
    print(report(results, summary, spec, idle, multiline))
    return 0 if all(r.returncode == 0 for r in results) else 1
