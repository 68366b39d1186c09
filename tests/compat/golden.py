"""The golden cases recorded from Fluent Bit 5.1.1, and what each one expects.

The format is described in ``../shared/golden/README.md``; this module is the
only place that knows it: where the cases live, which peer (kubernetes API,
OpenSearch, AWS) a case needs, and how the ``${GOLDEN_INPUT}`` placeholders of
``expected.jsonl`` resolve for one run.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from tests.golden_corpus import GOLDEN_DIR

#: the year Fluent Bit put into ``syslog-rfc3164`` times, which carry none (README, case 21).
GENERATION_YEAR = 2026

EXPECTED_FILES = (
    "expected.jsonl",
    "expected_bulk.ndjson",
    "expected_cloudwatch.json",
    "expected_firehose.json",
    "expected_requests.jsonl",
)


class Peer(Enum):
    """The fake server a case talks to, besides the capture output."""

    NONE = "none"
    KUBE = "kube"
    OPENSEARCH = "opensearch"
    AWS = "aws"


@dataclass(frozen=True)
class Expected:
    """Fluent Bit's output for one case, placeholders not yet resolved."""

    records: list[dict[str, Any]]
    bulk: bytes | None = None
    cloudwatch: dict[str, Any] | None = None
    firehose: dict[str, Any] | None = None
    requests: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class GoldenCase:
    """One case folder: config, inputs, pods and expectations."""

    name: str
    path: Path

    @property
    def number(self) -> int:
        return int(self.name.split("-", 1)[0])

    @property
    def peer(self) -> Peer:
        """Which fake server the case needs, from the README's table of case ranges."""
        if 31 <= self.number <= 37:
            return Peer.KUBE
        if 38 <= self.number <= 40:
            return Peer.OPENSEARCH
        if 41 <= self.number <= 46:
            return Peer.AWS
        return Peer.NONE

    @property
    def keeps_its_output(self) -> bool:
        """Cases 38-46 keep their real output; 01-37 end with a stdout placeholder."""
        return self.peer in (Peer.OPENSEARCH, Peer.AWS)

    @property
    def config_text(self) -> str:
        return (self.path / "fluent-bit.conf").read_text()

    def expected(self, override: Path | None = None) -> Expected:
        """Load the expectation files, each taken from ``override`` when it has one."""
        return load_expected(self.path, override)


def discover(root: Path = GOLDEN_DIR) -> list[GoldenCase]:
    """Every case folder under ``root``, in case-number order."""
    if not root.is_dir():
        return []
    return [GoldenCase(p.name, p) for p in sorted(root.iterdir()) if (p / "fluent-bit.conf").is_file()]


def load_expected(folder: Path, override: Path | None = None) -> Expected:
    """Read whichever expectation files exist; ``override`` files replace the golden ones."""

    def pick(name: str) -> Path | None:
        for base in (override, folder):
            if base is not None and (base / name).is_file():
                return base / name
        return None

    def json_file(name: str) -> Any:
        found = pick(name)
        return json.loads(found.read_text()) if found else None

    def jsonl_file(name: str) -> list[dict[str, Any]] | None:
        found = pick(name)
        if found is None:
            return None
        return [json.loads(line) for line in found.read_text().splitlines() if line.strip()]

    bulk = pick("expected_bulk.ndjson")
    return Expected(
        records=jsonl_file("expected.jsonl") or [],
        bulk=bulk.read_bytes() if bulk else None,
        cloudwatch=json_file("expected_cloudwatch.json"),
        firehose=json_file("expected_firehose.json"),
        requests=jsonl_file("expected_requests.jsonl"),
    )


def input_tag(input_dir: str) -> str:
    """What ``Tag x.*`` makes of a directory: separators to dots, leading dot dropped, ``..`` collapsed."""
    tag = re.sub(r"[/\\:]", ".", input_dir)
    while ".." in tag:
        tag = tag.replace("..", ".")
    return tag.lstrip(".")


def resolve_placeholders(records: list[dict[str, Any]], input_dir: str) -> list[dict[str, Any]]:
    """Substitute ``${GOLDEN_INPUT_TAG}`` in tags and ``${GOLDEN_INPUT}`` in string values."""
    tag_part = input_tag(input_dir)

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace("${GOLDEN_INPUT}", input_dir)
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return [
        {"tag": r["tag"].replace("${GOLDEN_INPUT_TAG}", tag_part), "time": r["time"], "record": walk(r["record"])}
        for r in records
    ]


def shift_rfc3164_year(records: list[dict[str, Any]], year: int) -> list[dict[str, Any]]:
    """Move the year-less ``syslog-rfc3164`` times of case 21 from the generation year to ``year``."""
    if year == GENERATION_YEAR:
        return records
    shifted = []
    for r in records:
        if r["tag"].endswith(".rfc3164.log") and isinstance(r["time"], int):
            secs, nanos = divmod(r["time"], 1_000_000_000)
            when = dt.datetime.fromtimestamp(secs, dt.UTC).replace(year=year)
            r = {**r, "time": int(when.timestamp()) * 1_000_000_000 + nanos}
        shifted.append(r)
    return shifted
