"""Where the golden corpus (cases recorded from real Fluent Bit) is found, the same way for every test.

``SHIPPER_GOLDEN_DIR`` names it; otherwise it is ``shared/golden`` beside the
repository (``../shared/golden`` from the repo root), as CI lays it out.
Tests that need it skip with one message when it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GOLDEN_DIR = Path(os.environ.get("SHIPPER_GOLDEN_DIR") or REPO.parent / "shared" / "golden")
MISSING = f"golden corpus not found at {GOLDEN_DIR}: set SHIPPER_GOLDEN_DIR to the folder of golden cases"

#: decorate a test (or set ``pytestmark``) that cannot run without the corpus.
requires_golden = pytest.mark.skipif(not GOLDEN_DIR.is_dir(), reason=MISSING)
