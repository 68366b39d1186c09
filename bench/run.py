"""Run real pipelines over generated logs and report throughput, CPU and memory.

Each pipeline is a config file run by the real CLI (``python -m shipper
run -c``) as a subprocess with ``Exit_On_Eof On``.  The child's own CPU time
(user + sys, from ``wait4``) is what MB per CPU-second is computed from, so
a noisy machine changes the wall figures less than the CPU ones; peak RSS
is the child's ``VmHWM``, read while it runs.  Process start-up (about 0.3 s
of imports) is included: it is part of what a user pays.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path

from bench.bare import kubernetes_floor
from bench.generate import Spec, Summary, generate
from bench.peers import Observed, Peer, kube_peer, kubernetes_maps, moto_peer, moto_s3_peer

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

_TAGGED_TAIL = """[INPUT]
    Name              tail
    Path              {logs}/*.log
    Tag_Regex         (?<file>[^/]+)$
    Tag               kube.var.log.containers.<file>
    multiline.parser  {multiline}
    Read_from_Head    On
    Exit_On_Eof       On
    Mem_Buf_Limit     {mem_buf_limit}
"""
_GREP_MODIFY = """[FILTER]
    Name     grep
    Match    kube.*
    Exclude  level ^debug$

[FILTER]
    Name     modify
    Match    kube.*
    Add      cluster bench
    Rename   msg message
"""
_KUBERNETES = """[FILTER]
    Name             kubernetes
    Match            kube.*
    Kube_URL         {kube_url}
    Kube_Token_File  {token_file}
    Merge_Log        {merge_log}
"""
_PLAIN_FILE = """[OUTPUT]
    Name    file
    Match   *
    Path    {out}
    File    out.log
    Format  plain
"""
_CLOUDWATCH = """[OUTPUT]
    Name               cloudwatch_logs
    Match              *
    region             us-east-1
    endpoint           {endpoint}
    log_group_name     bench
    log_stream_prefix  node-
    auto_create_group  On
"""
_S3 = """[OUTPUT]
    Name           s3
    Match          *
    bucket         bench
    region         us-east-1
    endpoint       {endpoint}
    store_dir      {store_dir}
    s3_key_format  /bench/$TAG/$UUID
    Retry_Limit    no_limits
"""


@dataclass(frozen=True)
class Pipeline:
    """One benchmarked config: the sections after the input, and the local server it needs, if any."""

    description: str
    sections: tuple[str, ...]
    tail: str = _TAIL
    peer: Callable[[Path, Path], AbstractContextManager[Peer]] | None = None
    #: a real-service emulator: runs on the smaller ``--cloudwatch-size-mb`` input (moto is slow), with
    #: today's timestamps (CloudWatch rejects events older than 14 days).
    slow_sink: bool = False


PIPELINES: dict[str, Pipeline] = {
    "cri-null": Pipeline("tail + {ml} -> null", (_NULL,)),
    "cri-json-null": Pipeline("tail + {ml} -> parser json (Reserve_Data) -> null", (_PARSER_FILTER, _NULL)),
    "cri-json-file": Pipeline("tail + {ml} -> parser json (Reserve_Data) -> file", (_PARSER_FILTER, _FILE)),
    "cri-json-grep-modify-null": Pipeline(
        "tail + {ml} -> parser json (Reserve_Data) -> grep (Exclude level) -> modify (Add, Rename) -> null",
        (_PARSER_FILTER, _GREP_MODIFY, _NULL)),
    "cri-tagged-null": Pipeline("tail + {ml} (kubelet tags) -> null", (_NULL,), _TAGGED_TAIL),
    "cri-k8s-null": Pipeline("tail + {ml} (kubelet tags) -> kubernetes (Merge_Log On, fake API) -> null",
                             (_KUBERNETES.replace("{merge_log}", "On"), _NULL), _TAGGED_TAIL, kube_peer),
    "cri-k8s-nomerge-null": Pipeline("tail + {ml} (kubelet tags) -> kubernetes (Merge_Log Off, fake API) -> null",
                                     (_KUBERNETES.replace("{merge_log}", "Off"), _NULL), _TAGGED_TAIL, kube_peer),
    "cri-k8s-file": Pipeline(
        "tail + {ml} (kubelet tags) -> kubernetes (Merge_Log On, Labels On, fake API) -> file (one JSON object per line)",
        (_KUBERNETES.replace("{merge_log}", "On"), _PLAIN_FILE), _TAGGED_TAIL, kube_peer),
    "cri-cloudwatch": Pipeline("tail + {ml} (kubelet tags) -> cloudwatch_logs (moto)", (_CLOUDWATCH,), _TAGGED_TAIL, moto_peer,
                               slow_sink=True),
    "cri-s3": Pipeline("tail + {ml} (kubelet tags) -> s3 (moto; objects uploaded at shutdown)", (_S3,), _TAGGED_TAIL,
                       moto_s3_peer, slow_sink=True),
}
#: what a plain ``python -m bench`` runs (moto is slow: cloudwatch only when asked for).
DEFAULT = [name for name, pipeline in PIPELINES.items() if not pipeline.slow_sink]


#: the tail multiline parser for each generated format.
MULTILINE = {"cri": "cri", "docker": "docker", "mixed": "docker, cri"}


@dataclass
class Result:
    wall: float
    cpu: float
    peak_rss_mb: float
    returncode: int
    output_records: int | None = None
    observed: Observed | None = None
    #: CPU this process spent meanwhile: the in-thread API server, the recording proxy.
    local_cpu: float = 0.0


@dataclass
class Measured:
    """Every run of one pipeline over one data set."""

    name: str
    spec: Spec
    summary: Summary
    runs: list[Result] = field(default_factory=list)

    @property
    def best(self) -> Result:
        return min(self.runs, key=lambda r: r.cpu)


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


def write_config(work: Path, logs: Path, name: str, multiline: str, mem_buf_limit: str,
                 options: dict[str, str] | None = None, tail_options: tuple[str, ...] = ()) -> Path:
    """The config file of pipeline ``name``; ``options`` fill a peer's placeholders (its URL...).

    ``tail_options`` are ``Key=Value`` lines added to the tail input (``Buffer_Chunk_Size=1MB``).
    """
    (work / "parsers.conf").write_text(_PARSERS)
    out = work / "out"
    out.mkdir(exist_ok=True)
    pipeline = PIPELINES[name]
    sections = [_SERVICE.format(parsers=work / "parsers.conf"),
                pipeline.tail.format(logs=logs, multiline=multiline, mem_buf_limit=mem_buf_limit)
                + "".join(f"    {key.strip()}  {value.strip()}\n" for key, value in (o.split("=", 1) for o in tail_options))]
    sections += [s.format(out=out, **(options or {})) for s in pipeline.sections]
    config = work / f"{name}.conf"
    config.write_text("\n".join(sections))
    return config


def _high_water_kb(pid: int) -> int:
    """The child's peak RSS since its exec (``VmHWM``).

    ``ru_maxrss`` from ``wait4`` also counts the forked copy of this process before the exec, so it
    reports this process's size whenever that is the larger (after a run that kept big answers).
    """
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_pipeline(config: Path, name: str, timeout: float, env: dict[str, str] | None = None) -> Result:
    """Run ``shipper run -c config`` and measure the child process."""
    # stderr to a file, not a pipe: a child that logs more than a pipe holds would block until the timeout
    with tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "shipper", "run", "-c", str(config)], cwd=REPO,
                                 stdout=subprocess.DEVNULL, stderr=stderr, env={**os.environ, **(env or {})})
        deadline = start + timeout
        peak_kb = 0
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            peak_kb = max(peak_kb, _high_water_kb(child.pid))
            if time.perf_counter() > deadline:
                child.kill()
                pid, status, usage = os.wait4(child.pid, 0)
                break
            time.sleep(0.02)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        stderr.seek(0)
        errors = stderr.read().decode(errors="replace")
    if child.returncode != 0:
        print(f"  {name}: exit {child.returncode}\n{errors[-2000:]}", file=sys.stderr)
    out = config.parent / "out" / "out.log"
    records = None
    if out.exists():
        with out.open("rb") as handle:
            records = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
        out.unlink()
    return Result(wall, usage.ru_utime + usage.ru_stime, (peak_kb or usage.ru_maxrss) / 1024, child.returncode, records)


def measure(name: str, spec: Spec, args: argparse.Namespace, work: Path) -> Measured:
    """``args.repeat`` runs of one pipeline, its peer (if any) started before and stopped after."""
    print(f"generating {spec.size_mb:g} MB in {spec.pods} files ({spec.fmt}) unless cached ...", file=sys.stderr)
    logs, summary = data_dir(spec, args.cache)
    multiline = MULTILINE[spec.fmt]
    measured = Measured(name, spec, summary)
    pipeline = PIPELINES[name]
    with pipeline.peer(logs, work) if pipeline.peer else nullcontext() as peer:
        config = write_config(work, logs, name, multiline, args.mem_buf_limit, peer.options if peer else None,
                              tuple(args.tail_option))
        for attempt in range(args.repeat):
            print(f"running {name} ({attempt + 1}/{args.repeat}) ...", file=sys.stderr)
            if peer:
                peer.begin()
            before = _own_cpu()
            result = run_pipeline(config, name, args.timeout, peer.env if peer else None)
            result.local_cpu = _own_cpu() - before
            if peer:
                result.observed = peer.observe()
                if result.observed.records is not None:
                    result.output_records = result.observed.records
            measured.runs.append(result)
    return measured


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def baseline(work: Path, timeout: float) -> Result:
    """tail -> null over an empty directory: what start-up and shutdown alone cost."""
    empty = work / "empty"
    empty.mkdir(exist_ok=True)
    return run_pipeline(write_config(work, empty, "cri-null", "cri", "8MB"), "cri-null", timeout)


@dataclass
class Floor:
    """Issue 16's Python floor (:func:`bench.bare.kubernetes_floor`), measured in the same run as shipper."""

    spec: Spec
    cpu: list[float]

    @property
    def best(self) -> float:
        return min(self.cpu)


def measure_floor(spec: Spec, args: argparse.Namespace) -> Floor:
    """``args.repeat`` runs of the floor over the data set of ``spec``, in this process."""
    logs, _ = data_dir(spec, args.cache)
    maps = kubernetes_maps(logs)
    runs = []
    for attempt in range(args.repeat):
        print(f"running the floor ({attempt + 1}/{args.repeat}) ...", file=sys.stderr)
        runs.append(kubernetes_floor(str(logs / "*.log"), maps)[2])
    return Floor(spec, runs)


def _spread(values: list[float]) -> str:
    return f"{min(values):.1f}–{max(values):.1f}" if len(values) > 1 else "-"


def report(results: list[Measured], idle: Result, floors: dict[Spec, Floor]) -> str:
    """Markdown tables: the data sets, every pipeline's best run and spread, and the peers' figures."""
    lines = [
        (f"Machine: {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, "
         f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}."),
        (f"Start-up and shutdown alone (empty input): {idle.cpu:.2f} CPU s, {idle.wall:.2f} s wall, "
         f"{idle.peak_rss_mb:.0f} MB RSS; the net column subtracts that CPU."),
    ]
    for spec, summary in {m.spec: m.summary for m in results}.items():
        lines.append(f"Input {spec.size_mb:g} MB: {summary.bytes / 1e6:.1f} MB, {spec.pods} files ({spec.fmt}), "
                     f"{summary.lines} lines, {summary.records} records, {spec.json_share:.0%} JSON messages.")
    lines += [
    ]
    for spec, floor in floors.items():
        lines.append(f"Floor over the {spec.size_mb:g} MB input (read, split, CRI, join partials, loads JSON logs, "
                     f"add the kubernetes map, dumps): best {floor.best:.2f} CPU s, spread {_spread(floor.cpu)}.")
    lines += [
        "",
        ("| pipeline | input MB | runs | MB per CPU-second (best) | spread | net of start-up | × floor (best) | "
         "× floor spread | lines/s wall | CPU s | wall s | peak RSS MB (best–worst) | records out |"),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in results:
        mb, best = m.summary.bytes / 1_000_000, m.best
        out = "-" if best.output_records is None else str(best.output_records)
        failed = sum(r.returncode != 0 for r in m.runs)
        status = f" ({failed} runs failed)" if failed else ""
        floor = floors.get(m.spec)
        ratio = f"{best.cpu / floor.best:.2f}" if floor else "-"
        ratios = [r.cpu / floor.best for r in m.runs] if floor else []
        ratio_spread = f"{min(ratios):.2f}–{max(ratios):.2f}" if len(ratios) > 1 else "-"
        rss = [r.peak_rss_mb for r in m.runs]
        lines.append(
            f"| {PIPELINES[m.name].description.format(ml=MULTILINE[m.spec.fmt])}{status} | {mb:.0f} | {len(m.runs)} | "
            f"{mb / best.cpu:.1f} | {_spread([mb / r.cpu for r in m.runs])} | "
            f"{mb / max(best.cpu - idle.cpu, 0.01):.1f} | {ratio} | {ratio_spread} | "
            f"{m.summary.lines / min(r.wall for r in m.runs):,.0f} | "
            f"{best.cpu:.2f} | {best.wall:.2f} | {min(rss):.0f}–{max(rss):.0f} | {out} |"
        )
    peered = [m for m in results if any(r.observed for r in m.runs)]
    if peered:
        lines += ["", ("| pipeline | run | requests | requests/s | records/s (wall) | shipper CPU s | wall s "
                       "| peer CPU s | local CPU s |"), "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for m in peered:
            for i, r in enumerate(m.runs, 1):
                seen = r.observed or Observed()
                records = m.summary.records if seen.records is None else seen.records
                peer_cpu = "-" if seen.peer_cpu is None else f"{seen.peer_cpu:.2f}"
                lines.append(f"| {m.name} | {i} | {seen.requests} | {seen.requests / r.wall:.1f} | "
                             f"{records / r.wall:,.0f} | {r.cpu:.2f} | {r.wall:.2f} | {peer_cpu} | {r.local_cpu:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description="shipper end-to-end benchmark")
    parser.add_argument("--size-mb", type=float, default=100.0, help="generated input size (default 100)")
    parser.add_argument("--cloudwatch-size-mb", type=float, default=20.0,
                        help="input size of the pipelines with a slow sink (moto; default 20)")
    parser.add_argument("--pods", type=int, default=100, help="number of files (default 100)")
    parser.add_argument("--format", dest="fmt", choices=("cri", "docker", "mixed"), default="cri")
    parser.add_argument("--json-share", type=float, default=Spec.json_share,
                        help=f"share of JSON messages (default {Spec.json_share}; issue 16's workload: 0.6)")
    parser.add_argument("--no-floor", action="store_true", help="skip the Python floor (CRI input only)")
    parser.add_argument("--pipelines", default=",".join(DEFAULT),
                        help="comma list of " + ", ".join(PIPELINES) + " (default: all but the moto ones, cri-cloudwatch and cri-s3)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per pipeline (default 3): best and spread")
    parser.add_argument("--mem-buf-limit", default="8MB", help="tail Mem_Buf_Limit (bounds RSS)")
    parser.add_argument("--tail-option", action="append", default=[], metavar="KEY=VALUE",
                        help="another tail option, e.g. Buffer_Chunk_Size=1MB (repeatable)")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/shipper-bench"), help="where generated logs live")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds before a run is killed")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.pipelines.split(",") if n.strip()]
    for name in names:
        if name not in PIPELINES:
            parser.error(f"unknown pipeline {name!r}")
    work = args.cache / "work"
    work.mkdir(parents=True, exist_ok=True)
    results = []
    for name in names:
        spec = Spec(args.size_mb, args.pods, args.fmt, args.json_share)
        if PIPELINES[name].slow_sink:
            spec = replace(spec, size_mb=args.cloudwatch_size_mb, base_second=int(time.time()) // 86400 * 86400)
        results.append(measure(name, spec, args, work))
    idle = baseline(work, args.timeout)
    floors = {} if args.no_floor or args.fmt != "cri" else {
        spec: measure_floor(spec, args) for spec in {m.spec for m in results if not PIPELINES[m.name].slow_sink}}
    print(report(results, idle, floors))
    return 0 if all(r.returncode == 0 for m in results for r in m.runs) else 1
