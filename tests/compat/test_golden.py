"""One test per golden case (and per variant difference): shipper's output must match Fluent Bit's.

The cases run concurrently in the session-scoped ``compat_runner`` (conftest.py);
each test here waits for its own run and judges it.  A case listed in
``pending.toml`` is an ``xfail(strict=False)`` with that reason; a case listed in
``differences.toml`` is held to shipper's documented behaviour instead.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.compat.cases import CaseSpec, all_specs
from tests.compat.compare import (
    compare_bulk,
    compare_cloudwatch,
    compare_dry_run,
    compare_firehose,
    compare_records,
    compare_requests,
)
from tests.compat.golden import GOLDEN_DIR, resolve_placeholders, shift_rfc3164_year
from tests.compat.runner import RunResult, SuiteRunner

SPECS = all_specs()
BULK_CONTENT_TYPE = "application/x-ndjson"
TRACEBACK = "Traceback (most recent call last)"


def _param(spec: CaseSpec) -> object:
    marks = [pytest.mark.xfail(reason=spec.pending, strict=False)] if spec.pending else []
    return pytest.param(spec, id=spec.id, marks=marks)


def judge(spec: CaseSpec, result: RunResult) -> list[str]:
    """Every way the run differs from what the case (or its documented difference) expects."""
    problems = [result.problem] if result.problem else []
    if TRACEBACK in result.stderr:
        problems.append("shipper logged a Python traceback: bad input must never crash a plugin")
    expect_error = spec.difference.expect_error if spec.difference else None
    if expect_error is not None:
        if result.returncode == 0:
            problems.append("shipper accepted the config; the documented behaviour is to refuse it")
        if not re.search(expect_error, result.stderr):
            problems.append(f"stderr does not match {expect_error!r}")
        if result.records:
            problems.append(f"{len(result.records)} records came out of a configuration that must be refused")
        return problems
    if result.returncode not in (0, None):
        problems.append(f"shipper exited with {result.returncode}")
    problems.extend(f"capture: {line}" for line in result.bad_lines[:3])
    expected = spec.golden.expected(spec.expectation_override)
    records = shift_rfc3164_year(resolve_placeholders(expected.records, result.input_dir), dt.date.today().year)
    problems.extend(compare_records(records, result.records, result.window))
    seen = result.observed
    if expected.bulk is not None:
        problems.extend(compare_bulk(expected.bulk, seen.bulk_bodies or []))
        odd = sorted({t for t in seen.bulk_content_types or [] if t != BULK_CONTENT_TYPE})
        if odd:
            problems.append(f"_bulk Content-Type {odd}, Fluent Bit sends {BULK_CONTENT_TYPE}")
    if expected.cloudwatch is not None:
        problems.extend(compare_cloudwatch(expected.cloudwatch, seen.cloudwatch or {}, result.window))
    if expected.firehose is not None:
        problems.extend(compare_firehose(expected.firehose, seen.firehose or {}))
    if expected.requests is not None:
        problems.extend(compare_requests(expected.requests, seen.requests or [], result.window))
    return problems


NO_CORPUS = pytest.param(
    None,
    id="no-golden-corpus",
    marks=pytest.mark.skip(reason=f"no golden cases in {GOLDEN_DIR}: set SHIPPER_GOLDEN_DIR to run the compat suite"),
)


@pytest.mark.parametrize("spec", [_param(s) for s in SPECS] or [NO_CORPUS])
def test_golden_case(spec: CaseSpec, compat_runner: SuiteRunner) -> None:
    result = compat_runner.result(spec.id)
    problems = judge(spec, result)
    if problems:
        what = f"documented difference {spec.difference.id!r}" if spec.difference else "Fluent Bit's output"
        log = result.stderr_tail()
        pytest.fail(
            f"{spec.id} differs from {what} ({result.seconds:.1f} s, exit {result.returncode}):\n  - "
            + "\n  - ".join(problems)
            + (f"\nshipper's last output lines:\n{log}" if log else ""),
            pytrace=False,
        )


@pytest.mark.parametrize("dry_spec", [pytest.param(s, id=s.id) for s in SPECS if s.golden.keeps_its_output and not s.is_variant])
def test_dry_run_shows_what_the_outputs_sent(dry_spec: CaseSpec, compat_runner: SuiteRunner) -> None:
    """``shipper dry-run`` on an output case prints exactly the documents, messages and records sent."""
    result = compat_runner.result(f"dry-{dry_spec.id}")
    expected = dry_spec.golden.expected()
    problems = [result.problem] if result.problem else []
    if TRACEBACK in result.stderr:
        problems.append("shipper dry-run logged a Python traceback")
    if result.returncode != 0:
        problems.append(f"shipper dry-run exited with {result.returncode}")
    problems += result.bad_lines[:3]
    problems += compare_dry_run(expected.bulk, expected.cloudwatch, expected.requests, result.dry_run)
    if problems:
        log = result.stderr_tail()
        pytest.fail(f"dry-run of {dry_spec.id}:\n  - " + "\n  - ".join(problems) + (f"\n{log}" if log else ""), pytrace=False)
