"""What the compat suite runs: the golden cases, the documented differences, the pending list.

Three lists decide how each golden case is judged, and they live in one place each:

- ``differences.toml``: where shipper deliberately does not copy Fluent Bit 5.1.1
  (it loses data or is plainly wrong).  An entry either *overrides* a golden
  case (its expectation files in ``differences/<id>/`` replace Fluent Bit's) or
  is a *variant* of one (``config_edits`` and/or extra ``input/`` files turn the
  case into the situation where Fluent Bit misbehaves; the golden case itself
  must still be identical).  Either way the test asserts shipper's documented
  behaviour, and docs/differences.md ("Differences from Fluent Bit") is
  generated from the same entries (``differences_doc.py``).
- ``pending.toml``: cases that fail only because a feature has not landed yet;
  they run as ``xfail(strict=False)`` with the reason given there, so nothing is
  skipped silently and an XPASS says an entry can go.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from tests.compat.golden import GoldenCase, discover

HERE = Path(__file__).resolve().parent
DIFFERENCES_FILE = HERE / "differences.toml"
DIFFERENCES_DIR = HERE / "differences"
PENDING_FILE = HERE / "pending.toml"


@dataclass(frozen=True)
class Difference:
    """One documented difference from Fluent Bit, and how the suite asserts it."""

    id: str
    title: str
    case: str
    fluent_bit: str
    shipper: str
    reason: str
    config_edits: tuple[tuple[str, str], ...] = ()
    #: a regex shipper's stderr must match when the difference is a refused config.
    expect_error: str | None = None

    @property
    def folder(self) -> Path:
        return DIFFERENCES_DIR / self.id

    @property
    def extra_input(self) -> Path | None:
        path = self.folder / "input"
        return path if path.is_dir() else None

    @property
    def is_variant(self) -> bool:
        """A variant runs a modified copy of its case; otherwise it replaces the case's expectations."""
        return bool(self.config_edits) or self.extra_input is not None


@dataclass(frozen=True)
class CaseSpec:
    """One run of the suite: a golden case, possibly changed by a difference."""

    id: str
    golden: GoldenCase
    difference: Difference | None = None
    pending: str | None = None

    @property
    def is_variant(self) -> bool:
        return self.difference is not None and self.difference.is_variant

    @property
    def expectation_override(self) -> Path | None:
        return self.difference.folder if self.difference and self.difference.folder.is_dir() else None


def load_differences(path: Path = DIFFERENCES_FILE) -> list[Difference]:
    """The entries of ``differences.toml``, in file order."""
    data = tomllib.loads(path.read_text())
    out = []
    for entry in data.get("difference", []):
        edits = tuple((old, new) for old, new in entry.pop("config_edits", []))
        out.append(Difference(config_edits=edits, **entry))
    return out


def load_pending(path: Path = PENDING_FILE) -> dict[str, str]:
    """Case or difference id -> why it cannot pass yet."""
    if not path.is_file():
        return {}
    return {str(k): str(v) for k, v in tomllib.loads(path.read_text()).get("pending", {}).items()}


def all_specs() -> list[CaseSpec]:
    """Every golden case, then every variant difference, each with its pending reason if any."""
    differences = load_differences()
    pending = load_pending()
    overrides = {d.case: d for d in differences if not d.is_variant}
    specs = [
        CaseSpec(case.name, case, overrides.get(case.name), pending.get(case.name))
        for case in discover()
    ]
    by_name = {s.id: s.golden for s in specs}
    for diff in differences:
        if diff.is_variant and diff.case in by_name:
            specs.append(CaseSpec(f"diff-{diff.id}", by_name[diff.case], diff, pending.get(f"diff-{diff.id}")))
    return specs
