"""Session plumbing of the compat suite: run the selected cases concurrently, and sum them up.

``compat_runner`` starts every golden case the session selected at once (so
``-k 05`` runs one case, and the full suite costs about its slowest cases), and
the terminal summary prints the figure README.md and docs/compatibility.md quote::

    compat: N/M golden cases identical, K documented differences
    compat dry-run: D/9 output cases print exactly what was sent
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.compat.cases import CaseSpec, all_specs
from tests.compat.runner import SuiteRunner

REPO = Path(__file__).resolve().parents[2]
#: the pages that quote the suite's figure
COMPAT_DOCS = (REPO / "README.md", REPO / "docs" / "compatibility.md")
_TALLY = pytest.StashKey[dict[str, tuple[CaseSpec, str]]]()
_DRY_TALLY = pytest.StashKey[dict[str, str]]()


def _spec_of(item: pytest.Item, param: str = "spec") -> CaseSpec | None:
    """The case a collected test judges: ``spec`` for ``shipper run``, ``dry_spec`` for ``shipper dry-run``."""
    callspec = getattr(item, "callspec", None)
    spec = callspec.params.get(param) if callspec is not None else None
    return spec if isinstance(spec, CaseSpec) else None


@pytest.fixture(scope="session")
def compat_runner(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SuiteRunner]:
    items = request.session.items
    specs = [spec for item in items if (spec := _spec_of(item)) is not None]
    dry_specs = [spec for item in items if (spec := _spec_of(item, "dry_spec")) is not None]
    workers = int(os.environ.get("SHIPPER_COMPAT_WORKERS", "0")) or max(4, 2 * (os.cpu_count() or 2))
    runner = SuiteRunner(specs, tmp_path_factory.mktemp("golden"), workers, dry_specs)
    yield runner
    runner.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    spec, dry = _spec_of(item), _spec_of(item, "dry_spec")
    if (spec is None and dry is None) or (report.when != "call" and not report.failed):
        return
    pending = hasattr(report, "wasxfail")
    status = {(True, False): "passed", (True, True): "xpassed", (False, True): "xfailed"}.get(
        (report.passed, pending), "failed"
    )
    if spec is not None:
        item.config.stash.setdefault(_TALLY, {})[spec.id] = (spec, status)
    elif dry is not None:
        item.config.stash.setdefault(_DRY_TALLY, {})[dry.id] = status


def summary_lines(tally: dict[str, tuple[CaseSpec, str]]) -> list[str]:
    """The headline figure, then which ids fail, are pending, or passed although listed as pending."""
    golden = [(s, st) for s, st in tally.values() if not s.is_variant]
    identical = [s for s, st in golden if st in ("passed", "xpassed") and s.difference is None]
    documented = [s for s, st in tally.values() if s.difference is not None and st in ("passed", "xpassed")]
    lines = [f"compat: {len(identical)}/{len(golden)} golden cases identical, {len(documented)} documented differences"]
    for label, wanted in (("failing", "failed"), ("pending", "xfailed"), ("passing but still in pending.toml", "xpassed")):
        ids = sorted(s.id for s, st in tally.values() if st == wanted)
        if ids:
            lines.append(f"compat {label}: {', '.join(ids)}")
    return lines


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    tally, dry = config.stash.get(_TALLY, {}), config.stash.get(_DRY_TALLY, {})
    lines = summary_lines(tally) if tally else []
    if dry:
        failing = sorted(case for case, status in dry.items() if status != "passed")
        lines.append(f"compat dry-run: {len(dry) - len(failing)}/{len(dry)} output cases print exactly what was sent"
                     + (f" (failing: {', '.join(failing)})" if failing else ""))
    if tally and len(tally) == len(all_specs()):
        for doc in COMPAT_DOCS:
            if doc.is_file() and lines[0] not in doc.read_text():
                lines.append(f"note: {doc.relative_to(REPO)} quotes another figure; put this run's line in its compatibility section")
    if lines:
        terminalreporter.section("golden compatibility")
        for line in lines:
            terminalreporter.write_line(line)
