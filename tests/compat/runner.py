"""Run one golden case through the real ``shipper run`` CLI, as the golden README describes.

A case is copied to a scratch directory, its placeholder stdout output is
swapped for the capture output (cases 01-37) or the capture output is added
next to its real output with the ``tls.*`` lines dropped (38-46, shipper talks
plain HTTP to the fake servers), and ``python -m shipper run -c`` runs it with
the ``GOLDEN_*`` environment.  Every tail has ``Exit_On_Eof`` except case 11,
which is stopped with SIGTERM once the capture file has not grown for 5 s.

:class:`SuiteRunner` starts every selected case at once on a thread pool (the
AWS cases on one lane of their own, since they share moto), so the whole suite
costs about as much wall time as its slowest cases.  For the output cases it
also runs ``shipper dry-run`` (:func:`run_dry`), which must print exactly what
the real outputs sent.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.compat.capture import CAPTURE_FILE, capture_section, read_capture
from tests.compat.cases import CaseSpec
from tests.compat.compare import Window
from tests.compat.golden import Peer
from tests.compat.peers import Observed, Peers, PeerUnavailable

REPO = Path(__file__).resolve().parents[2]
EXIT_TIMEOUT = 30.0  # a case that reads a few KB and has not exited by then is hung
IDLE_STOP = 6.0  # README: stop case 11 after it has been idle for more than 5 s
IDLE_LIMIT = 40.0  # bound on the idle wait, whatever the output does
STOP_TIMEOUT = 15.0  # SIGTERM to exit; shipper's default Grace is 5 s

_EXIT_ON_EOF = re.compile(r"(?im)^\s*exit_on_eof\s+(on|true|yes)\s*$")
_PLACEHOLDER = re.compile(r"\[OUTPUT\]\s*\n\s*Name\s+stdout\s*\n\s*Match\s+\*\s*$")
_TLS_LINE = re.compile(r"(?im)^\s*tls(\.[\w.]+)?\s+.*\n?")


class HarnessError(RuntimeError):
    """The case could not be set up as the golden README says (not a shipper failure)."""


@dataclass
class RunResult:
    """What one run produced, for the comparisons in the test."""

    spec_id: str
    input_dir: str
    records: list[dict[str, Any]] = field(default_factory=list)
    bad_lines: list[str] = field(default_factory=list)
    window: Window = field(default_factory=lambda: Window(0, 0))
    returncode: int | None = None
    stderr: str = ""
    problem: str | None = None  # hung, killed, or a harness/peer problem
    observed: Observed = field(default_factory=Observed)
    #: ``shipper dry-run --format jsonl`` objects of the real outputs (the capture output left out).
    dry_run: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def stderr_tail(self, lines: int = 15) -> str:
        return "\n".join(self.stderr.rstrip().splitlines()[-lines:])


def prepare_config(spec: CaseSpec, capture_dir: Path) -> str:
    """The case's config with the difference's edits applied and the capture output in place."""
    text = spec.golden.config_text
    if spec.is_variant:
        assert spec.difference is not None
        for old, new in spec.difference.config_edits:
            if old not in text:
                raise HarnessError(f"config edit of {spec.id}: {old!r} not found in {spec.golden.name}/fluent-bit.conf")
            text = text.replace(old, new, 1)
    if spec.golden.keeps_its_output:
        return _TLS_LINE.sub("", text).rstrip() + "\n\n" + capture_section(capture_dir)
    stripped = text.rstrip()
    placeholder = _PLACEHOLDER.search(stripped)
    if placeholder is None:
        raise HarnessError(f"{spec.golden.name}: the config does not end with the stdout placeholder output")
    return stripped[: placeholder.start()] + capture_section(capture_dir)


def exits_on_eof(config_text: str) -> bool:
    """Every golden tail has Exit_On_Eof except case 11, which must be stopped after idling."""
    return _EXIT_ON_EOF.search(config_text) is not None


def stage(spec: CaseSpec, workdir: Path) -> tuple[Path, Path, Path]:
    """Copy the case into ``workdir``: (config file, input dir, capture dir)."""
    source = spec.golden.path
    input_dir = workdir / "input"
    shutil.copytree(source / "input", input_dir)
    if spec.difference is not None and spec.difference.extra_input is not None:
        shutil.copytree(spec.difference.extra_input, input_dir, dirs_exist_ok=True)
    for extra in ("parsers.conf", "pods"):
        if (source / extra).is_dir():
            shutil.copytree(source / extra, workdir / extra)
        elif (source / extra).is_file():
            shutil.copy2(source / extra, workdir / extra)
    (workdir / "state").mkdir()
    capture_dir = workdir / "capture"
    capture_dir.mkdir()
    config = workdir / "fluent-bit.conf"
    config.write_text(prepare_config(spec, capture_dir))
    return config, input_dir, capture_dir


def _wait_idle(process: subprocess.Popen[bytes], capture: Path) -> None:
    """Return once output has started and then not grown for IDLE_STOP seconds (bounded by IDLE_LIMIT).

    Idleness counts from the first captured record, not from process start, so
    a slow start on a loaded machine is not mistaken for an idle pipeline.
    """
    started = time.monotonic()
    size, last_change = 0, None
    while process.poll() is None and time.monotonic() - started < IDLE_LIMIT:
        current = capture.stat().st_size if capture.exists() else 0
        now = time.monotonic()
        if current != size:
            size, last_change = current, now
        elif last_change is not None and now - last_change > IDLE_STOP:
            return
        time.sleep(0.2)


def _stop(process: subprocess.Popen[bytes]) -> str | None:
    """SIGTERM, then SIGKILL if shipper does not drain in time; a problem text if it had to be killed."""
    if process.poll() is not None:
        return None
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT)
        return None
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
        return f"did not exit within {STOP_TIMEOUT:.0f} s of SIGTERM; killed"


def _run_shipper(config: Path, workdir: Path, env: dict[str, str], capture: Path, result: RunResult) -> None:
    """Run ``shipper run -c config`` to its end (EOF, or idle then SIGTERM); fills returncode, window, problem."""
    start_ns = time.time_ns()
    with open(workdir / "stderr.txt", "wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "shipper", "run", "-c", str(config)],
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=err,
            stderr=subprocess.STDOUT,
        )
        try:
            if exits_on_eof(config.read_text()):
                try:
                    process.wait(EXIT_TIMEOUT)
                except subprocess.TimeoutExpired:
                    killed = _stop(process)
                    result.problem = f"did not exit at EOF within {EXIT_TIMEOUT:.0f} s (Exit_On_Eof On); sent SIGTERM"
                    result.problem += f", then {killed}" if killed else ""
            else:
                _wait_idle(process, capture)
                result.problem = _stop(process)
        finally:
            if process.poll() is None:  # the harness itself failed: never leave shipper running
                process.kill()
                process.wait(10)
    result.window = Window.around(start_ns, time.time_ns())
    result.returncode = process.returncode


#: where the peers of a dry-run point: dry-run must not connect anywhere, and port 9 (discard) answers nothing.
NOWHERE = {
    "GOLDEN_KUBE_URL": "http://127.0.0.1:9",
    "GOLDEN_OPENSEARCH_HOST": "127.0.0.1",
    "GOLDEN_OPENSEARCH_PORT": "9",
    "GOLDEN_AWS_ENDPOINT": "http://127.0.0.1:9",
    "GOLDEN_AWS_PORT": "9",
    "GOLDEN_AWS_CA_FILE": "",
}


def _base_env(input_dir: Path, workdir: Path) -> dict[str, str]:
    env = {**os.environ, "GOLDEN_INPUT": str(input_dir), "GOLDEN_STATE": str(workdir / "state"), "PYTHONPATH": str(REPO)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # ~50 runs: compile shipper's modules once, not at every start
    return env


def run_dry(spec: CaseSpec, workdir: Path) -> RunResult:
    """``shipper dry-run -c ... --log-dir input --format jsonl``: what each output says it would send."""
    started = time.monotonic()
    config, input_dir, _ = stage(spec, workdir)
    result = RunResult(f"dry-{spec.id}", str(input_dir))
    command = [sys.executable, "-m", "shipper", "dry-run", "-c", str(config), "--log-dir", str(input_dir), "--format", "jsonl"]
    try:
        done = subprocess.run(
            command, cwd=workdir, env={**_base_env(input_dir, workdir), **NOWHERE}, stdin=subprocess.DEVNULL,
            capture_output=True, timeout=EXIT_TIMEOUT, check=False,
        )
        result.returncode, result.stderr = done.returncode, done.stderr.decode(errors="replace")
        for line in done.stdout.decode(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                result.bad_lines.append(f"not a dry-run jsonl line: {line[:200]!r}")
                continue
            # The capture output is not compared, nor the rows dry-run shows as refused (never sent).
            if "path" not in (entry.get("destination") or {}) and "refused" not in entry:
                result.dry_run.append(entry)
    except subprocess.TimeoutExpired:
        result.problem = f"dry-run did not finish within {EXIT_TIMEOUT:.0f} s"
    result.seconds = time.monotonic() - started
    return result


def run_case(spec: CaseSpec, workdir: Path, peers: Peers) -> RunResult:
    """Stage, run and read back one case; never raises for a shipper failure."""
    started = time.monotonic()
    config, input_dir, capture_dir = stage(spec, workdir)
    result = RunResult(spec.id, str(input_dir))
    env = _base_env(input_dir, workdir)
    capture = capture_dir / CAPTURE_FILE
    try:
        with peers.session(spec.golden, input_dir) as peer:
            _run_shipper(config, workdir, {**env, **peer.env}, capture, result)
        result.observed = peer.observed
    except PeerUnavailable as exc:
        result.problem = str(exc)
    stderr = workdir / "stderr.txt"
    result.stderr = stderr.read_text(errors="replace") if stderr.exists() else ""
    result.records, result.bad_lines = read_capture(capture)
    result.seconds = time.monotonic() - started
    return result


class SuiteRunner:
    """Runs every selected case concurrently; ``result(id)`` waits for one of them."""

    def __init__(self, specs: Sequence[CaseSpec], root: Path, workers: int, dry_specs: Sequence[CaseSpec] = ()) -> None:
        self.peers = Peers()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="compat")
        self._aws_lane = ThreadPoolExecutor(max_workers=1, thread_name_prefix="compat-aws")
        self._futures: dict[str, Future[RunResult]] = {}
        if any(s.golden.peer is Peer.AWS for s in specs):
            self._aws_lane.submit(self._warm_aws)
        # the slowest first: case 11 idles for seconds (scheduling only, so the golden text will do)
        for spec in sorted(specs, key=lambda s: exits_on_eof(s.golden.config_text)):
            executor = self._aws_lane if spec.golden.peer is Peer.AWS else self._pool
            self._futures[spec.id] = executor.submit(run_case, spec, root / spec.id, self.peers)
        for spec in dry_specs:  # no peer involved: any worker will do
            self._futures[f"dry-{spec.id}"] = self._pool.submit(run_dry, spec, root / f"dry-{spec.id}")

    def _warm_aws(self) -> None:
        try:
            self.peers.aws.warm_up()
        except PeerUnavailable:
            pass  # each AWS case reports it

    def result(self, spec_id: str) -> RunResult:
        return self._futures[spec_id].result()

    def close(self) -> None:
        for future in self._futures.values():
            future.cancel()
        self._pool.shutdown(wait=True)
        self._aws_lane.shutdown(wait=True)
        self.peers.stop()
