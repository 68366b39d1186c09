"""Run ``shipper test`` cases through the real pipeline, in dry-run mode.

Each case gets a fresh pipeline built from the config, as ``shipper dry-run``
builds it: the same readers, decoders, filters and request building as
``run``, with no network.  Its lines are written under a temporary directory
standing in for the tail ``Path`` (``DryRun.log_dir``) and only the tail
inputs whose ``Path`` matches the case's path read them; ``records`` replace
the inputs with one that hands them in under the case's tag.  The clock
outputs use (CloudWatch's time windows) is the case's ``now``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import fnmatch
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from shipper.config.model import ConfigDocument
from shipper.engine.core import Engine
from shipper.errors import Location
from shipper.inputs.tail import TailInput
from shipper.options import Settings
from shipper.pipeline import Pipeline, build
from shipper.plugin import Context, DryRun, Input, Rendered
from shipper.testing.kubemeta import write_kube_meta
from shipper.testing.matchers import check_payload, mismatched_keys
from shipper.testing.spec import (
    Case,
    Expect,
    LinesInput,
    RecordsInput,
    SpecError,
    TestFile,
)
from shipper.testing.trace import Collector, Tracer

#: failing records described per expectation; the rest are counted.
MAX_RECORDS_SHOWN = 3


@dataclass
class CaseResult:
    """How one case went: passed, failed (with the explanation) or could not run."""

    file: TestFile
    case: Case
    #: expectation failures, each a block of lines (headline first).
    failures: list[list[str]] = field(default_factory=list)
    #: the case could not run (bad kube_meta, a path no input reads...).
    error: str | None = None
    seconds: float = 0.0
    trace: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures and self.error is None


class RecordFeeder(Input):
    """Hands a case's ``records`` to the pipeline as one chunk, then finishes."""

    name = "test"

    def __init__(self, context: Context, source: RecordsInput, time_ns: int) -> None:
        super().__init__(Settings({"tag": source.tag}, {}, [], Location("<test>"), "test.records"), context)
        self.events = [(time_ns, dict(record)) for record in source.records]

    async def run(self) -> None:
        await self.emit(self.tag, self.events)


def _tail_inputs(pipeline: Pipeline, path: str) -> list[Input]:
    return [
        i for i in pipeline.inputs
        if isinstance(i, TailInput) and any(fnmatch.fnmatchcase(path, p) for p in i.pathset.patterns)
    ]


def _excluded_by(pipeline: Pipeline, path: str) -> list[str]:
    """Why tail read nothing, when the reason is an ``Exclude_Path``."""
    return [
        f"  {i.instance_name} skips {path}: Exclude_Path {pattern}"
        for i in pipeline.inputs if isinstance(i, TailInput)
        for pattern in i.pathset.excludes if fnmatch.fnmatchcase(path, pattern)
    ]


def _prepare(case: Case, pipeline: Pipeline, log_dir: Path, now_ns: int) -> Pipeline:
    """The pipeline with the case's input in place of the configured ones."""
    source = case.input
    if isinstance(source, RecordsInput):
        feeder = RecordFeeder(pipeline.context, source, now_ns if source.time_ns is None else source.time_ns)
        return dataclasses.replace(pipeline, inputs=[feeder])
    inputs = _tail_inputs(pipeline, source.path)
    if not inputs:
        patterns = [p for i in pipeline.inputs if isinstance(i, TailInput) for p in i.pathset.patterns]
        raise SpecError(f"no tail input reads {source.path} (Path patterns: {', '.join(patterns) or 'none'})")
    (log_dir / Path(source.path).name).write_text("".join(line + "\n" for line in source.lines))
    return dataclasses.replace(pipeline, inputs=inputs)


def _describe_record(index: int, total: int, tag: str, item: Rendered) -> str:
    where = " ".join(f"{k}={v}" for k, v in item.destination.items())
    return f"record {index + 1} of {total} (tag {tag}{', ' + where if where else ''}):"


def _refusals(refused: list[Rendered], reasons: dict[str, str]) -> list[str]:
    """One line per reason the destination would refuse records for."""
    counts = Counter(item.refused for item in refused)
    return [f"  refused by the destination: {n} record(s) as {code}: {reasons.get(code or '', code)}"
            for code, n in counts.items()]


def _count_failure(expect: Expect, sent: list[tuple[str, Rendered]], refused: list[Rendered], collector: Collector,
                   tracer: Tracer, match: str) -> list[str]:
    wanted = "at least 1" if expect.count is None else str(expect.count)
    lines = [f"{expect.output}: expected {wanted} record(s), would send {len(sent)}"]
    if expect.count is not None and len(sent) > expect.count:
        lines += [f"  would send: {item.payload}" for _, item in sent[:MAX_RECORDS_SHOWN]]
        return lines
    for step in tracer.steps:
        if step.dropped:
            lines.append(f"  dropped by {step.name}: {step.dropped} record(s) under tag {step.tag}")
        if step.records_out < step.records_in:
            lines += [f"  re-tagged by {step.name}: {n} record(s) now tagged {tag}" for tag, n in step.reemitted if n]
    lines += _refusals(refused, collector.reasons)
    if not any(s.kind == "output" and s.name == expect.output for s in tracer.steps):
        tags = tracer.final_tags()
        if tags:
            lines.append(f"  {expect.output} never received a record: its {match} does not accept tag(s) {', '.join(tags)}")
    return lines


def _record_problems(expect: Expect, tag: str, item: Rendered) -> list[str]:
    """How one record an output would send breaks the expectation's tag, destination and payload matchers."""
    problems = []
    if expect.tag is not None and not expect.tag.check(tag):
        problems.append(f"tag is {tag!r}, expected {expect.tag}")
    for key, wanted in expect.destination.items():
        actual = item.destination.get(key)
        if actual is None:
            problems.append(f"destination has no {key!r} (it has {', '.join(item.destination) or 'nothing'})")
        elif not wanted.check(str(actual)):
            problems.append(f"destination {key} is {actual!r}, expected {wanted}")
    if expect.payload is not None:
        problems += check_payload(expect.payload, item.payload)
    return problems


def evaluate(expect: Expect, collector: Collector, tracer: Tracer, pipeline: Pipeline) -> list[str]:
    """The failure block of one expectation, or [] when it holds."""
    outputs = {o.instance_name: o for o in pipeline.outputs}
    output = outputs.get(expect.output)
    if output is None:
        return [f"no output named {expect.output!r}; the config has {', '.join(outputs)}"]
    items = collector.sent.get(expect.output, [])
    sent = [(tag, item) for tag, item in items if item.refused is None]
    refused = [item for _, item in items if item.refused is not None]
    problems: list[str] = []
    count_ok = len(sent) == expect.count if expect.count is not None else bool(sent) or expect.refused is not None
    if not count_ok:
        match = "Match_Regex" if output.settings.get("match_regex") else f"Match {output.settings.get('match')!r}"
        problems += _count_failure(expect, sent, refused, collector, tracer, match)
    if expect.refused is not None and len(refused) != expect.refused:
        problems.append(f"{expect.output}: expected {expect.refused} refused record(s), the destination would refuse {len(refused)}")
        problems += _refusals(refused, collector.reasons)
    bad = 0
    keys: set[str] = set()
    for index, (tag, item) in enumerate(sent):
        record_problems = _record_problems(expect, tag, item)
        if not record_problems:
            continue
        if expect.payload is not None:
            keys |= mismatched_keys(expect.payload, item.payload)
        bad += 1
        if bad <= MAX_RECORDS_SHOWN:
            problems.append(f"{expect.output}: {_describe_record(index, len(sent), tag, item)}")
            problems += ["  " + line for line in record_problems]
    if bad > MAX_RECORDS_SHOWN:
        problems.append(f"{expect.output}: {bad - MAX_RECORDS_SHOWN} more record(s) fail the same expectation")
    changers = tracer.changers(keys) if keys else []
    if changers:
        problems.append(f"  {', '.join(sorted(keys))} changed by: {', '.join(changers)}")
    return problems


class CaseRunner:
    """Runs cases against one parsed config; each case builds its own pipeline, so no state leaks between them."""

    def __init__(self, document: ConfigDocument) -> None:
        self.document = document

    def run(self, file: TestFile, case: Case) -> CaseResult:
        result = CaseResult(file, case)
        started = time.perf_counter()
        try:
            self._run(case, result)
        except SpecError as exc:
            result.error = str(exc)
        result.seconds = time.perf_counter() - started
        return result

    def _run(self, case: Case, result: CaseResult) -> None:
        now_ns = case.now_ns if case.now_ns is not None else time.time_ns()
        with tempfile.TemporaryDirectory(prefix="shipper-test-") as tmp:
            log_dir, meta_dir = Path(tmp, "logs"), Path(tmp, "kube")
            log_dir.mkdir()
            if case.kube_meta:
                meta_dir.mkdir()
                path = case.input.path if isinstance(case.input, LinesInput) else None
                write_kube_meta(case.kube_meta, meta_dir, path, "kube_meta")
            dry = DryRun(log_dir=log_dir, kube_meta_dir=meta_dir if case.kube_meta else None, now_ns=case.now_ns)
            pipeline = _prepare(case, build(self.document, dry_run=dry), log_dir, now_ns)
            tracer, collector = Tracer(), Collector()
            asyncio.run(Engine(pipeline, printer=collector, probe=tracer).run())
        for expect in case.expects:
            failure = evaluate(expect, collector, tracer, pipeline)
            if failure:
                result.failures.append(failure)
        result.trace = tracer.lines()
        if not tracer.steps and isinstance(case.input, LinesInput):
            result.trace += _excluded_by(pipeline, case.input.path)
