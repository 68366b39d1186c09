"""The bulk bodies of golden cases 38-40, byte for byte, from the records Fluent Bit flushed.

Fluent Bit 5.1.1 sent one ``POST /_bulk`` per case (``expected_bulk.ndjson``);
we encode the records of ``expected.jsonl`` with the case's ``[OUTPUT]``
options and compare the bytes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.factory import make_plugin
from tests.golden_corpus import GOLDEN_DIR, requires_golden

pytestmark = requires_golden
CASES = ["38-os-logstash-format", "39-os-index-suppress-generate-id", "40-os-time-nanos-replace-dots"]
CONNECTION_KEYS = {"name", "match", "host", "port"}


def output_options(case: Path) -> list[tuple[str, str]]:
    """The opensearch [OUTPUT] options of a case, without the connection ones."""
    options: list[tuple[str, str]] = []
    section = ""
    for line in (case / "fluent-bit.conf").read_text().splitlines():
        text = line.strip()
        if text.startswith("["):
            section = text.lower()
            continue
        if section == "[output]" and text and not text.startswith("#"):
            key, _, value = text.partition(" ")
            if key.lower() not in CONNECTION_KEYS:
                options.append((key, value.strip()))
    return options


@pytest.mark.parametrize("name", CASES)
def test_bulk_body_matches_fluent_bit(name: str) -> None:
    case = GOLDEN_DIR / name
    rows = [json.loads(line) for line in (case / "expected.jsonl").read_text().splitlines()]
    assert len({row["tag"] for row in rows}) == 1
    output = make_plugin("output", "opensearch", output_options(case))
    items = output.encoder.encode(rows[0]["tag"], [(row["time"], row["record"]) for row in rows])
    body = b"".join(item.action + item.document for item in items)
    assert body == (case / "expected_bulk.ndjson").read_bytes()
