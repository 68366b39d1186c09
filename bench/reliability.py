"""Reliability scenarios: kill -9, sink outage, overload — run by the e2e tests and for the figures.

Each scenario runs the real CLI (``python -m shipper run -c``) as a
subprocess on real files written by :mod:`tests.e2e.writer` (a separate
process, so killing the shipper never disturbs it), ships them with the
``cloudwatch_logs`` output to a moto server, reads every event back with
``FilterLogEvents`` and compares the ``(file, seq)`` numbers with what was
written.  The tests (``tests/e2e/test_reliability_*.py``) call the scenarios
with small sizes and assert on the returned reports; this module's ``main``
runs them at full size and prints the figures quoted in
``docs/reliability.md``::

    python -m bench.reliability crash   [--full]   # 5 x kill -9; --full: 200,000 lines / 20 files
    python -m bench.reliability outage  [--full]   # sink down 10 s; --full: 60 s
    python -m bench.reliability overload           # writer faster than the sink: max RSS
    python -m bench.reliability shipped [--full]   # config/fluent-bit.conf, sink down 30 s; --full: 10 minutes
    python -m bench.reliability churn [--full]     # pod churn, inode reuse; --full: 2,000 files at 100/s
    python -m bench.reliability descriptors [--full]   # 600 files / ulimit -n 256; --full: 1,000 / 512
    python -m bench.reliability reloads [--full]   # 100 reloads + 50 SIGHUPs: fds and RSS; --full: 1,000

Memory figures come from ``VmRSS`` in ``/proc/<pid>/status``, sampled every
50 ms by a thread of this process.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import boto3  # type: ignore[import-untyped]
import orjson

from tests.e2e.writer import DONE_MARKER, expected_lines, parse_line
from tests.poll import eventually, wait_for
from tests.servers.moto import MotoServer, RecordingProxy, free_port

REPO = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
GROUP = "/shipper/reliability"

Line = tuple[int, int]


# -- processes -----------------------------------------------------------------
def child_env(home: Path) -> dict[str, str]:
    """Fake static AWS credentials, no shared files, no IMDS: the default chain is predictable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_CONFIG_FILE=str(home / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "no-aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        PYTHONUNBUFFERED="1",
        PYTHONPATH=str(REPO),
    )
    return env


def rss_bytes(pid: int) -> int:
    """Resident set size of a process (``VmRSS``), 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class Writer:
    """``tests.e2e.writer`` as a subprocess."""

    def __init__(self, directory: Path, files: int, lines: int, rate: float, rotate_every: int,
                 rotation: str = "rename", env: dict[str, str] | None = None, width: int = 100) -> None:
        self.directory = directory
        self.files = files
        self.lines = lines
        args = [sys.executable, "-m", "tests.e2e.writer", str(directory), "--files", str(files),
                "--lines", str(lines), "--rate", str(rate), "--rotate-every", str(rotate_every),
                "--rotation", rotation, "--width", str(width)]
        self.process = subprocess.Popen(args, cwd=REPO, env=env)

    @property
    def expected(self) -> set[Line]:
        return expected_lines(self.files, self.lines)

    @property
    def done(self) -> bool:
        return (self.directory / DONE_MARKER).exists()

    def wait(self, timeout: float) -> None:
        self.process.wait(timeout=timeout)
        if self.process.returncode != 0 or not self.done:
            raise AssertionError(f"writer failed (exit {self.process.returncode})")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


class Shipper:
    """One ``shipper run -c CONFIG`` process at a time; its own log is appended to ``log``."""

    def __init__(self, config: Path, log: Path, env: dict[str, str], http_port: int,
                 file_limit: int | None = None) -> None:
        self.config = config
        self.log = log
        self.env = env
        self.http_port = http_port
        #: ``ulimit -n`` of the process (soft and hard), as a node or a container runtime may set it.
        self.file_limit = file_limit
        self.process: subprocess.Popen[bytes] | None = None
        self.max_rss = 0
        self._sampler: threading.Thread | None = None

    def start(self, sample_rss: bool = False) -> Shipper:
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "shipper", "run", "-c", str(self.config)],
                stdout=out, stderr=subprocess.STDOUT, cwd=REPO, env=self.env,
                preexec_fn=self._limit_files,  # noqa: PLW1509 - setrlimit only, before exec
            )
        if sample_rss:
            self._sampler = threading.Thread(target=self._sample, args=(self.process,), daemon=True)
            self._sampler.start()
        return self

    def _limit_files(self) -> None:
        if self.file_limit is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (self.file_limit, self.file_limit))

    def _sample(self, process: subprocess.Popen[bytes]) -> None:
        while process.poll() is None:
            self.max_rss = max(self.max_rss, rss_bytes(process.pid))
            time.sleep(0.05)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def get(self, path: str, timeout: float = 5) -> tuple[int, bytes]:
        """GET from the monitoring server: (status, body)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}{path}", timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def post(self, path: str, timeout: float = 30) -> tuple[int, bytes]:
        request = urllib.request.Request(f"http://127.0.0.1:{self.http_port}{path}", data=b"", method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def answering(self) -> bool:
        try:
            return self.get("/api/v1/uptime", timeout=1)[0] == 200
        except OSError:
            return False

    def wait_ready(self, timeout: float = 30) -> None:
        """Until the monitoring server answers (the pipeline is built and running)."""
        def ready() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"shipper exited with {self.process.returncode}:\n{self.log_text()[-3000:]}")
            return self.answering()
        wait_for(ready, timeout, 0.05, "shipper monitoring server answering")

    def metric(self, name: str, path: str = "/api/v1/metrics/prometheus") -> float:
        """Sum of every sample of one metric in the Prometheus exposition."""
        from prometheus_client.parser import text_string_to_metric_families

        status, body = self.get(path)
        assert status == 200, status
        total = 0.0
        for family in text_string_to_metric_families(body.decode()):
            total += sum(s.value for s in family.samples if s.name == name)
        return total

    def kill9(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM and wait; a process that does not exit in time is killed and reported."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
                raise AssertionError("shipper did not exit after SIGTERM") from None
        return self.process.returncode

    def ensure_stopped(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


class RestartableMoto(MotoServer):
    """A moto server that can be stopped and started again on the same port (state is lost)."""

    def restart(self, timeout: float = 30.0) -> None:
        port = self.port
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for(self._answers, timeout, 0.1, f"moto restarting on port {port}")

    def _answers(self) -> bool:
        try:
            self.reset()
            return True
        except OSError:
            return False


# -- configuration -------------------------------------------------------------
@dataclass
class Setup:
    """A tail → cloudwatch_logs pipeline over a writer's directory."""

    work: Path
    endpoint: str
    http_port: int = field(default_factory=free_port)
    stream: str = "run-0"
    mem_buf_limit: str = "4M"
    filesystem: bool = False
    total_limit_size: str | None = None
    scheduler_base: float = 0.2
    scheduler_cap: float = 1.0
    flush: float = 0.2
    grace: float = 10

    @property
    def logs(self) -> Path:
        return self.work / "logs"

    @property
    def config(self) -> Path:
        return self.work / "shipper.conf"

    def render(self) -> str:
        storage = f"    storage.path      {self.work / 'storage'}\n" if self.filesystem else ""
        input_storage = "    storage.type      filesystem\n" if self.filesystem else ""
        limit = f"    storage.total_limit_size {self.total_limit_size}\n" if self.total_limit_size else ""
        return (
            "[SERVICE]\n"
            f"    Flush             {self.flush}\n"
            f"    Grace             {self.grace:g}\n"
            "    Log_Level         info\n"
            "    HTTP_Server       On\n"
            "    HTTP_Listen       127.0.0.1\n"
            f"    HTTP_Port         {self.http_port}\n"
            "    Health_Check      On\n"
            "    storage.metrics   On\n"
            f"    scheduler.base    {self.scheduler_base}\n"
            f"    scheduler.cap     {self.scheduler_cap}\n"
            f"{storage}"
            "\n[INPUT]\n"
            "    Name              tail\n"
            f"    Path              {self.logs}/*.log\n"
            "    Tag               app.*\n"
            f"    DB                {self.work / 'offsets.db'}\n"
            "    Read_from_Head    On\n"
            "    Refresh_Interval  1\n"
            "    Rotate_Wait       5\n"
            f"    Mem_Buf_Limit     {self.mem_buf_limit}\n"
            f"{input_storage}"
            "\n[OUTPUT]\n"
            "    Name              cloudwatch_logs\n"
            "    Match             app.*\n"
            f"    region            {REGION}\n"
            f"    endpoint          {self.endpoint}\n"
            f"    log_group_name    {GROUP}\n"
            f"    log_stream_name   {self.stream}\n"
            "    auto_create_group On\n"
            "    log_key           log\n"
            "    Retry_Limit       no_limits\n"
            f"{limit}"
        )

    def write(self) -> Path:
        self.work.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(exist_ok=True)
        self.config.write_text(self.render())
        return self.config

    def shipper(self) -> Shipper:
        return Shipper(self.write(), self.work / "shipper.log", child_env(self.work), self.http_port)


@dataclass
class ShippedSetup(Setup):
    """The shipped DaemonSet pipeline (``config/fluent-bit.conf``) run here.

    Every reliability setting is the shipped one (``Flush``, ``Retry_Limit``,
    ``scheduler.cap``, ``Mem_Buf_Limit``, ``storage.type``, ``Refresh_Interval``);
    only what ties it to a node changes: paths, the listen address, the
    CloudWatch endpoint and group, ``log_key log`` so events read back
    as the lines written, ``Read_from_Head On`` (the writer may create its
    files before tail's first scan, which would skip them); the kubernetes filter (it needs an API
    server) and the container-runtime multiline parsers (the writer writes
    plain lines) are left out.  ``source`` may name another config of the
    same layout, e.g. the pre-fix one to compare.
    """

    source: Path = REPO / "config" / "fluent-bit.conf"

    def render(self) -> str:
        sections = re.split(r"(?m)^(?=\[)", self.source.read_text())
        kept = [s for s in sections if s.startswith(("[SERVICE]", "[INPUT]", "[OUTPUT]"))]
        replace = {
            "parsers_file": None,
            "multiline.parser": None,
            "exclude_path": None,
            "http_listen": "127.0.0.1",
            "http_port": str(self.http_port),
            "storage.path": str(self.work / "storage"),
            "path": f"{self.logs}/*.log",
            "db": str(self.work / "offsets.db"),
            "region": REGION,
            "log_group_name": GROUP,
            "read_from_head": "On",
        }
        lines = []
        for line in "".join(kept).splitlines():
            key = line.split()[0].lower() if line.strip() and not line.lstrip().startswith("#") else ""
            if key in replace:
                if replace[key] is not None:
                    lines.append(f"    {line.split()[0]}  {replace[key]}")
            else:
                lines.append(line)
            if key == "name" and line.split()[1] == "cloudwatch_logs":
                lines += [f"    endpoint  {self.endpoint}", "    log_key  log"]
        return "\n".join(lines) + "\n"

    def shipper(self) -> Shipper:
        env = {**child_env(self.work), "HOST_NAME": "node-1", "AWS_REGION": REGION, "CLUSTER_NAME": "bench"}
        return Shipper(self.write(), self.work / "shipper.log", env, self.http_port)


# -- reading back --------------------------------------------------------------
def read_back(moto_url: str, group: str = GROUP) -> dict[str, list[Line]]:
    """Every event of the group, per stream, as ``(file, seq)`` (FilterLogEvents, all pages)."""
    client = boto3.client("logs", region_name=REGION, endpoint_url=moto_url,
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    streams: dict[str, list[Line]] = {}
    try:
        pages = client.get_paginator("filter_log_events").paginate(logGroupName=group)
        for page in pages:
            for event in page["events"]:
                parsed = parse_line(event["message"])
                if parsed is not None:
                    streams.setdefault(event["logStreamName"], []).append(parsed)
    except client.exceptions.ResourceNotFoundException:
        return {}
    return streams


def delivered(moto_url: str) -> list[Line]:
    return [line for lines in read_back(moto_url).values() for line in lines]


def duplicates(lines: Iterable[Line]) -> int:
    return sum(n - 1 for n in Counter(lines).values() if n > 1)


# -- scenario: kill -9 ---------------------------------------------------------
@dataclass
class CrashReport:
    expected: int
    delivered: int
    missing: set[Line]
    duplicates_per_crash: list[int]
    kill_after: list[float]
    seconds: float

    @property
    def duplicates(self) -> int:
        return self.delivered - (self.expected - len(self.missing))


def crash_scenario(work: Path, moto: MotoServer, runs: int = 5, files: int = 20, lines: int = 2000,
                   rate: float = 4000, rotate_every: int = 700, seed: int = 8,
                   kill_window: tuple[float, float] = (0.3, 2.5), settle: float = 60) -> CrashReport:
    """``runs`` kill -9 at random moments while the writer rotates files, then one clean run to the end.

    Incarnation ``k`` writes to log stream ``run-k``, so the duplicates a
    crash caused are the lines incarnation ``k+1`` sent that an earlier one
    had already sent.  Kills land ``kill_window`` seconds after the
    monitoring server answers, so some hit start-up and replay.
    """
    rng = random.Random(seed)
    moto.reset()
    setup = Setup(work, moto.url)
    setup.write()
    started = time.monotonic()
    writer = Writer(setup.logs, files, lines, rate, rotate_every, env=child_env(work))
    kills: list[float] = []
    shipper: Shipper | None = None
    try:
        for run in range(runs):
            setup.stream = f"run-{run}"
            shipper = setup.shipper().start()
            shipper.wait_ready()
            delay = rng.uniform(*kill_window)
            time.sleep(delay)
            shipper.kill9()
            kills.append(delay)
        setup.stream = f"run-{runs}"
        shipper = setup.shipper().start()
        shipper.wait_ready()
        writer.wait(timeout=settle)
        expected = writer.expected
        eventually(lambda: expected <= set(delivered(moto.url)), settle, 1.0)  # the caller asserts on missing
        code = shipper.stop()
        assert code == 0, f"shipper exited with {code}"
    finally:
        writer.stop()
        if shipper is not None:
            shipper.ensure_stopped()
    streams = read_back(moto.url)
    seen: set[Line] = set()
    per_crash: list[int] = []
    for run in range(runs + 1):
        sent = streams.get(f"run-{run}", [])
        if run:
            per_crash.append(sum(1 for line in sent if line in seen) + duplicates(sent))
        seen.update(sent)
    everything = [line for sent in streams.values() for line in sent]
    return CrashReport(len(expected), len(everything), expected - seen, per_crash, kills,
                       time.monotonic() - started)


def full_crash_scenario(work: Path, moto: MotoServer, seed: int = 8) -> CrashReport:
    """The issue's size: 200,000 lines across 20 files, rotated every 2,500 lines, 5 crashes."""
    return crash_scenario(work, moto, seed=seed, files=20, lines=10_000, rate=8000, rotate_every=2500, settle=600)


# -- scenario: sink outage -----------------------------------------------------
@dataclass
class OutageReport:
    expected: int
    delivered: int
    missing: set[Line]
    #: lines first delivered after the sink came back
    recovered: set[Line]
    newest_per_file: dict[int, int]
    last_seq: int
    outage_seconds: float
    recovery_seconds: float
    dropped_records: float
    dropped_chunks: float
    retries: float
    #: PutLogEvents calls moto answered with 200 from the start of the outage to the end
    requests_after_outage: int
    log: str
    #: the shipper's largest RSS, sampled every 50 ms (bytes).
    max_rss: int = 0
    paused: float = 0

    def summary(self) -> str:
        return (f"outage {self.outage_seconds:.1f}s, recovery {self.recovery_seconds:.1f}s, "
                f"written {self.expected}, delivered {self.delivered}, missing {len(self.missing)}, "
                f"dropped records {self.dropped_records:g} in {self.dropped_chunks:g} chunks, "
                f"retries {self.retries:g}, {self.requests_after_outage} PutLogEvents calls to catch up, "
                f"max RSS {self.max_rss / 1e6:.0f} MB, input paused {self.paused:g} times")


def _settle_inflight(proxy: RecordingProxy, timeout: float = 30) -> None:
    """Until every call the proxy forwarded has its answer (so moto holds all it will hold)."""
    wait_for(lambda: all(c.status for c in proxy.calls("PutLogEvents")), timeout, 0.05, "in-flight calls answered")


def outage_scenario(work: Path, moto: RestartableMoto, proxy: RecordingProxy, outage: float = 10,
                    files: int = 10, lines: int = 1500, rate: float = 1500, filesystem: bool = False,
                    total_limit_size: str | None = None, settle: float = 90,
                    setup: Setup | None = None, width: int = 100) -> OutageReport:
    """Stop moto while the writer runs, start it again on the same port, wait for the backlog.

    moto forgets everything when it stops, so the events it held are read
    back just before: the proxy first answers PutLogEvents with 503 (what a
    sink going down looks like to the shipper), in-flight calls finish, the
    events are read, then moto stops and the proxy's forwards fail with a
    closed connection until it is back.  The recovery time runs from moto
    answering again to the last missing line arriving.  ``setup`` replaces
    the default pipeline (it must send to ``proxy``).
    """
    moto.reset()
    proxy.clear()
    setup = setup or Setup(work, proxy.url, filesystem=filesystem, total_limit_size=total_limit_size)
    shipper = setup.shipper()
    writer = Writer(setup.logs, files, lines, rate, rotate_every=lines // 3 + 1, env=child_env(work), width=width)
    total = files * lines
    try:
        shipper.start(sample_rss=True).wait_ready()
        wait_for(lambda: len(delivered(moto.url)) >= total // 10, 60, 0.3, "first lines delivered")
        down_at = time.monotonic()
        proxy.fail("PutLogEvents", 503, "ServiceUnavailableException", "sink down", times=10**9)
        _settle_inflight(proxy)
        before = delivered(moto.url)
        moto.stop()
        proxy.clear()
        time.sleep(max(0.0, outage - (time.monotonic() - down_at)))
        moto.restart()
        up_at = time.monotonic()
        outage_seconds = up_at - down_at
        writer.wait(timeout=settle)
        expected = writer.expected

        def caught_up() -> bool:
            if not total_limit_size:
                return expected <= set(before) | set(delivered(moto.url))
            # with a storage cap some lines are gone for good: done when tail has read every line
            # and every chunk file was delivered or dropped
            return (shipper.metric("fluentbit_input_records_total") >= total
                    and shipper.metric("shipper_storage_chunks", "/api/v2/metrics/prometheus") == 0)

        wait_for(caught_up, settle, 0.5, "backlog delivered after the outage")
        recovery = time.monotonic() - up_at
        dropped_records = shipper.metric("fluentbit_output_dropped_records_total")
        dropped_chunks = shipper.metric("shipper_storage_dropped_chunks_total")
        retries = shipper.metric("fluentbit_output_retries_total")
        paused = shipper.metric("shipper_input_paused_total")
        code = shipper.stop()
        assert code == 0, f"shipper exited with {code}"
    finally:
        writer.stop()
        shipper.ensure_stopped()
    requests = sum(1 for call in proxy.calls("PutLogEvents") if call.status == 200)
    after = delivered(moto.url)
    got = [*before, *after]
    newest: dict[int, int] = {}
    for f, s in got:
        newest[f] = max(newest.get(f, -1), s)
    return OutageReport(len(expected), len(got), expected - set(got), set(after) - set(before), newest, lines - 1,
                        outage_seconds, recovery,
                        dropped_records, dropped_chunks, retries, requests, shipper.log_text(), shipper.max_rss, paused)


# -- scenario: overload --------------------------------------------------------
@dataclass
class OverloadReport:
    expected: int
    missing: set[Line]
    baseline_rss: int
    max_rss: int
    mem_buf_limit: int
    paused: float
    written_bytes: int


def overload_scenario(work: Path, moto: MotoServer, proxy: RecordingProxy, mem_buf_limit: int = 1 << 20,
                      files: int = 4, lines: int = 50_000, rate: float = 40_000, throttle: float = 4,
                      settle: float = 90) -> OverloadReport:
    """The sink throttles every PutLogEvents for ``throttle`` seconds while the writer writes at full speed.

    The writer produces far more than ``Mem_Buf_Limit`` during the throttle,
    so tail must pause (``shipper_input_paused_total``) and RSS must stay
    near the interpreter's baseline plus the limit; after the throttle ends
    everything is delivered.
    """
    moto.reset()
    proxy.clear()
    setup = Setup(work, proxy.url, mem_buf_limit=str(mem_buf_limit))
    shipper = setup.shipper()
    try:
        shipper.start(sample_rss=True).wait_ready()
        time.sleep(0.5)
        baseline = rss_bytes(shipper.pid)
        proxy.fail("PutLogEvents", 400, "ThrottlingException", "Rate exceeded", times=10**9)
        writer = Writer(setup.logs, files, lines, rate, rotate_every=lines // 2 + 1, env=child_env(work))
        try:
            time.sleep(throttle)
            proxy.clear()
            writer.wait(timeout=settle)
        finally:
            writer.stop()
        expected = writer.expected
        # the counter first (cheap), then one read-back of everything
        eventually(lambda: shipper.metric("fluentbit_output_proc_records_total") >= len(expected), settle, 0.5)
        paused = shipper.metric("shipper_input_paused_total")
        code = shipper.stop()
        assert code == 0, f"shipper exited with {code}"
    finally:
        shipper.ensure_stopped()
    written = sum(p.stat().st_size for p in setup.logs.iterdir() if p.name.startswith("app-"))
    return OverloadReport(len(expected), expected - set(delivered(moto.url)), baseline, shipper.max_rss,
                          mem_buf_limit, paused, written)


# -- tail → file pipelines (churn, descriptors) ----------------------------------
def tail_to_file_config(work: Path, port: int, rotate_wait: float = 5) -> str:
    """tail over ``work/logs/*.log`` (with a DB, from the head) into ``work/out/records.log``, plain JSON."""
    return (
        "[SERVICE]\n    Flush 0.2\n    Grace 5\n    Log_Level info\n"
        f"    HTTP_Server On\n    HTTP_Listen 127.0.0.1\n    HTTP_Port {port}\n"
        f"[INPUT]\n    Name tail\n    Path {work}/logs/*.log\n    Tag pod.*\n    DB {work}/offsets.db\n"
        f"    Read_from_Head On\n    Refresh_Interval 1\n    Rotate_Wait {rotate_wait:g}\n"
        f"[OUTPUT]\n    Name file\n    Match pod.*\n    Path {work}/out\n    File records.log\n    Format plain\n"
    )


def file_pipeline(work: Path, rotate_wait: float = 5, file_limit: int | None = None) -> Shipper:
    (work / "logs").mkdir(parents=True, exist_ok=True)
    (work / "out").mkdir(exist_ok=True)
    port = free_port()
    config = work / "shipper.conf"
    config.write_text(tail_to_file_config(work, port, rotate_wait))
    return Shipper(config, work / "shipper.log", child_env(work), port, file_limit=file_limit)


def written_out(work: Path) -> list[str]:
    """The ``log`` of every record in the pipeline's output file."""
    out = work / "out" / "records.log"
    if not out.exists():
        return []
    return [orjson.loads(line)["log"] for line in out.read_bytes().splitlines() if line.strip()]


def open_descriptors(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))


def held_open(pid: int) -> set[str]:
    """The files a process has open."""
    held = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            held.add(os.readlink(fd))
        except OSError:
            continue
    return held


# -- scenario: pod churn -------------------------------------------------------
@dataclass
class ChurnReport:
    files: int
    #: files created on the inode of a file deleted earlier in the run
    reused: int
    written: set[str]
    delivered: list[str]
    #: shipper_tail_inode_reused_total
    counted: float

    @property
    def missing(self) -> set[str]:
        return self.written - set(self.delivered)

    def summary(self) -> str:
        lost_files = {line[:9] for line in self.missing}
        return (f"{self.files} files, {self.reused} on a reused inode: {len(self.missing)} of {len(self.written)} "
                f"lines lost in {len(lost_files)} files, {len(self.delivered) - len(set(self.delivered))} "
                f"duplicates, {self.counted:g} reuses counted")


def churn_scenario(work: Path, files: int = 300, per_second: float = 100, lifetime: float = 1.0,
                   lines: int = 3, settle: float = 30) -> ChurnReport:
    """Pods come and go: ``files`` files created at ``per_second``, each deleted ``lifetime`` s later.

    A file is deleted only once shipper has it open (a file deleted unseen is
    another matter), and every line is unique, so a new file on a reused inode
    never looks like the deleted one.  ``Rotate_Wait 0.2`` lets tail close
    deleted files fast, so their inodes come back while the run goes on.
    """
    shipper = file_pipeline(work, rotate_wait=0.2)
    logs = work / "logs"
    written: set[str] = set()
    freed: set[int] = set()
    reused = 0
    alive: list[tuple[float, Path]] = []
    try:
        shipper.start().wait_ready()
        start = time.monotonic()
        held: set[str] = set()
        for n in range(files):
            while alive and alive[0][0] <= time.monotonic():
                path = alive[0][1]
                if str(path) not in held:
                    held = held_open(shipper.pid)
                    if str(path) not in held:
                        break
                alive.pop(0)
                freed.add(path.stat().st_ino)
                path.unlink()
            path = logs / f"pod-{n:05d}.log"
            batch = [f"pod {n:05d} line {i}" for i in range(lines)]  # the same size: a stale offset skips them all
            path.write_text("".join(line + "\n" for line in batch))
            written.update(batch)
            reused += path.stat().st_ino in freed
            alive.append((time.monotonic() + lifetime, path))
            time.sleep(max(0.0, start + (n + 1) / per_second - time.monotonic()))
        for due, path in alive:
            time.sleep(max(0.0, due - time.monotonic()))
            name = str(path)
            wait_for(lambda: name in held_open(shipper.pid), 10, 0.05, f"{path.name} opened")  # noqa: B023
            path.unlink()
        eventually(lambda: written <= set(written_out(work)), settle, 0.3)
        counted = shipper.metric("shipper_tail_inode_reused_total")
        assert shipper.stop() == 0
    finally:
        shipper.ensure_stopped()
    return ChurnReport(files, reused, written, written_out(work), counted)


# -- scenario: more files than descriptors ---------------------------------------
@dataclass
class DescriptorReport:
    files: int
    file_limit: int
    written: set[str]
    #: lines of the first round not delivered when the second round was written
    missing_first: set[str]
    delivered: list[str]
    parked: float
    answered: bool
    seconds: float
    log: str

    @property
    def missing(self) -> set[str]:
        return self.written - set(self.delivered)

    def summary(self) -> str:
        return (f"{self.files} files, ulimit -n {self.file_limit}: {len(self.missing)} of {len(self.written)} lines "
                f"missing, {len(self.delivered) - len(set(self.delivered))} duplicates, {self.parked:g} closings of "
                f"idle files, monitoring answering {self.answered}, {self.seconds:.1f}s")


def descriptor_scenario(work: Path, files: int = 600, file_limit: int = 256, lines: int = 5,
                        settle: float = 60) -> DescriptorReport:
    """``files`` files (written twice, ``lines`` lines each time) read under ``ulimit -n file_limit``."""
    shipper = file_pipeline(work, file_limit=file_limit)

    def write_round(first: int) -> set[str]:
        batch_lines: set[str] = set()
        for n in range(files):
            batch = [f"file {n:05d} line {i}" for i in range(first, first + lines)]
            with (work / "logs" / f"pod-{n:05d}.log").open("a") as handle:
                handle.writelines(line + "\n" for line in batch)
            batch_lines.update(batch)
        return batch_lines

    try:
        written = write_round(0)
        started = time.monotonic()
        shipper.start().wait_ready()
        eventually(lambda: written <= set(written_out(work)), settle, 0.3)
        answered = shipper.answering()
        missing_first = written - set(written_out(work))
        written |= write_round(lines)  # every file again, most of them closed by now
        eventually(lambda: written <= set(written_out(work)), settle, 0.3)
        seconds = time.monotonic() - started
        parked = shipper.metric("shipper_tail_files_parked_total")
        assert shipper.stop() == 0
    finally:
        shipper.ensure_stopped()
    return DescriptorReport(files, file_limit, written, missing_first, written_out(work), parked, answered, seconds,
                            shipper.log_text())


# -- scenario: reload storm ----------------------------------------------------
RELOAD_CONFIG = """\
[SERVICE]
    Flush         0.2
    Grace         5
    Log_Level     info
    HTTP_Server   On
    HTTP_Listen   127.0.0.1
    HTTP_Port     {port}
    Hot_Reload    On

[INPUT]
    Name            tail
    Path            {work}/logs/*.log
    Tag             app.*
    DB              {work}/offsets.db
    Read_from_Head  On

[INPUT]
    Name    dummy
    Tag     beat
    Rate    5

[OUTPUT]
    Name               cloudwatch_logs
    Match              *
    region             us-east-1
    endpoint           {endpoint}
    log_group_name     reloads
    log_stream_name    storm
    auto_create_group  On

[OUTPUT]
    Name    file
    Match   *
    Path    {work}
    File    records.log
"""


@dataclass
class ReloadReport:
    #: (reloads applied, open files, RSS bytes) after the warm-up and every ``reloads / 4``
    samples: list[tuple[int, int, int]]
    #: reloads the SIGHUP burst caused
    storm: float
    sighups: int
    seconds: float

    def summary(self) -> str:
        points = ", ".join(f"{n}: {files} fds / {rss / 1e6:.1f} MB" for n, files, rss in self.samples)
        return (f"reloads -> open files / RSS: {points}; {self.sighups} SIGHUPs -> {self.storm:g} reloads; "
                f"{self.seconds:.1f}s")


def reload_scenario(work: Path, moto: MotoServer, reloads: int = 50, warm_up: int = 15,
                    sighups: int = 50) -> ReloadReport:
    """``reloads`` POST /api/v2/reload, each waited for until the new pipeline runs, then a SIGHUP burst."""
    (work / "logs").mkdir(parents=True, exist_ok=True)
    (work / "logs" / "app.log").write_text("a line\n" * 10)
    port = free_port()
    config = work / "shipper.conf"
    config.write_text(RELOAD_CONFIG.format(port=port, work=work, endpoint=moto.url))
    shipper = Shipper(config, work / "shipper.log", child_env(work), port)
    applied = 0
    samples: list[tuple[int, int, int]] = []

    def sample() -> None:
        samples.append((applied, open_descriptors(shipper.pid), rss_bytes(shipper.pid)))

    try:
        shipper.start().wait_ready()
        started = time.monotonic()
        for n in range(warm_up + reloads):
            status, body = shipper.post("/api/v2/reload")
            assert (status, orjson.loads(body)) == (200, {"reload": "done", "status": 0}), body
            applied += 1
            wait_for(lambda: shipper.log_text().count("configuration reloaded") >= applied, 30, 0.02,  # noqa: B023
                     f"reload {applied}")
            if n + 1 == warm_up or (n + 1 - warm_up) % max(1, reloads // 4) == 0 and n >= warm_up:
                sample()
        before = shipper.metric("shipper_reloads_total")
        assert shipper.process is not None
        for _ in range(sighups):
            shipper.process.send_signal(signal.SIGHUP)
        wait_for(lambda: shipper.metric("shipper_reloads_total") > before, 30, 0.1, "SIGHUP reload applied")
        wait_for(shipper.answering, 30, 0.1, "monitoring server answering after the SIGHUPs")
        storm = shipper.metric("shipper_reloads_total") - before
        seconds = time.monotonic() - started
        assert shipper.stop() == 0
    finally:
        shipper.ensure_stopped()
    return ReloadReport(samples, storm, sighups, seconds)


# -- command line --------------------------------------------------------------
def _mb(n: float) -> str:
    return f"{n / 1e6:.1f} MB"


def _crash(work: Path, moto: RestartableMoto, full: bool, seed: int) -> None:
    report = full_crash_scenario(work, moto, seed) if full else crash_scenario(work, moto, seed=seed)
    print(f"lines written {report.expected}, delivered {report.delivered}, missing {len(report.missing)}")
    print(f"kill -9 after (s): {', '.join(f'{k:.2f}' for k in report.kill_after)}")
    print(f"duplicates per crash: {report.duplicates_per_crash} (total {report.duplicates})")
    print(f"wall time {report.seconds:.1f}s")


def _outage(work: Path, moto: RestartableMoto, proxy: RecordingProxy, full: bool) -> None:
    if full:
        # issue 16: a 60 MB burst of 200-byte lines meets a 60 s outage with Mem_Buf_Limit 50MB
        report = outage_scenario(work / "burst", moto, proxy, outage=60, files=20, lines=15_000, rate=5_000,
                                 setup=Setup(work / "burst", proxy.url, mem_buf_limit="50M"), width=200, settle=600)
        print(f"[memory, Mem_Buf_Limit 50M, 60 MB burst] {report.summary()}")
    for filesystem, cap in ((False, None), (True, "64k")):
        report = outage_scenario(work / ("fs" if filesystem else "mem"), moto, proxy, outage=60 if full else 10,
                                 rate=300 if full else 1500, filesystem=filesystem, total_limit_size=cap,
                                 settle=300)
        mode = f"filesystem, total_limit_size {cap}" if filesystem else "memory"
        print(f"[{mode}] {report.summary()}")


def _shipped(work: Path, moto: RestartableMoto, proxy: RecordingProxy, full: bool) -> None:
    outage = 600 if full else 30
    report = outage_scenario(work, moto, proxy, outage=outage, files=10, lines=max(1000, int(outage * 5)),
                             rate=max(100, 10 * outage * 5 / (outage + 30)), settle=outage + 300,
                             setup=ShippedSetup(work, proxy.url))
    print(f"[config/fluent-bit.conf] {report.summary()}")


def _churn(work: Path, full: bool) -> None:
    for lifetime in (1.0, 2.0):
        report = churn_scenario(work / f"churn-{lifetime:g}", files=2000 if full else 300, lifetime=lifetime)
        print(f"[churn, deleted {lifetime:g}s after creation] {report.summary()}")


def _descriptors(work: Path, full: bool) -> None:
    files, limit = (1000, 512) if full else (600, 256)
    print(f"[descriptors] {descriptor_scenario(work, files=files, file_limit=limit).summary()}")


def _reloads(work: Path, moto: MotoServer, full: bool) -> None:
    print(f"[reloads] {reload_scenario(work, moto, reloads=1000 if full else 100).summary()}")


def _overload(work: Path, moto: RestartableMoto, proxy: RecordingProxy) -> None:
    report = overload_scenario(work, moto, proxy)
    print(f"written {_mb(report.written_bytes)}, missing {len(report.missing)}, "
          f"Mem_Buf_Limit {_mb(report.mem_buf_limit)}, baseline RSS {_mb(report.baseline_rss)}, "
          f"max RSS {_mb(report.max_rss)}, input paused {report.paused:g} times")


def main(argv: list[str] | None = None) -> int:
    import tempfile

    parser = argparse.ArgumentParser(description="reliability figures (see docs/reliability.md)")
    parser.add_argument("scenario", choices=("crash", "outage", "overload", "shipped", "churn", "descriptors",
                                             "reloads"))
    parser.add_argument("--full", action="store_true",
                        help="the issue's sizes: 200,000 lines / 60 s outage / the shipped config through 10 minutes")
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args(argv)
    moto = RestartableMoto()
    moto.start()
    proxy = RecordingProxy(moto.url).start()
    try:
        with tempfile.TemporaryDirectory(prefix="shipper-reliability-") as tmp:
            if args.scenario == "crash":
                _crash(Path(tmp), moto, args.full, args.seed)
            elif args.scenario == "outage":
                _outage(Path(tmp), moto, proxy, args.full)
            elif args.scenario == "shipped":
                _shipped(Path(tmp), moto, proxy, args.full)
            elif args.scenario == "churn":
                _churn(Path(tmp), args.full)
            elif args.scenario == "descriptors":
                _descriptors(Path(tmp), args.full)
            elif args.scenario == "reloads":
                _reloads(Path(tmp), moto, args.full)
            else:
                _overload(Path(tmp), moto, proxy)
    finally:
        proxy.stop()
        moto.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
