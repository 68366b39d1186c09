"""Golden cases 31-37 at the filter level: the case's own config, pods and CRI lines.

The compat suite runs these cases end to end through ``shipper run``; this
test pins the kubernetes filter to the same expectations without tail or the
engine, so a regression points straight at the filter.  Records are built the
way the cri multiline parser builds them (``time``, ``stream``, ``_p``, ``log``).
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from shipper.config.loader import load_config
from shipper.config.model import ConfigDocument, Section
from shipper.errors import Location
from shipper.options import Property
from shipper.pipeline import build
from tests.golden_corpus import GOLDEN_DIR, requires_golden
from tests.servers.kube_api import KubeApiServer

pytestmark = requires_golden
CASES = sorted(p.name for p in GOLDEN_DIR.glob("3[1-7]-k8s-*"))


def cri_event(line: str) -> tuple[int, dict[str, str]]:
    stamp, stream, flag, log = line.split(" ", 3)
    whole, frac = stamp.rstrip("Z").split(".")
    secs = int(datetime.datetime.fromisoformat(whole).replace(tzinfo=datetime.UTC).timestamp())
    return secs * 1_000_000_000 + int(frac.ljust(9, "0")), {"time": stamp, "stream": stream, "_p": flag, "log": log}


def without_inputs(document: ConfigDocument) -> ConfigDocument:
    """The case's document with its tail input swapped for dummy: this test feeds the filter itself."""
    dummy = Section("input", [Property("name", "dummy", Location("<test>", 1))], Location("<test>"))
    document.sections = [s for s in document.sections if s.kind != "input"] + [dummy]
    return document


def chunks(case: Path) -> list[tuple[str, list[tuple[int, dict[str, str]]]]]:
    """(tag, events) per input file, tagged as the case's tail input tags them."""
    out = []
    for path in sorted(case.glob("input/**/*.log")):
        tag = f"{path.parent.name}.k8s.{path.name}" if "tag-prefix" in case.name else f"kube.var.log.containers.{path.name}"
        out.append((tag, [cri_event(line) for line in path.read_text().splitlines() if line]))
    return out


@pytest.mark.parametrize("name", CASES)
async def test_golden_case(name: str) -> None:
    case = GOLDEN_DIR / name
    token = (case / "input" / "kube-token").read_text()
    async with KubeApiServer(pods_dir=case / "pods", tokens={token}) as api:
        env = {"GOLDEN_INPUT": str(case / "input"), "GOLDEN_KUBE_URL": api.url, "GOLDEN_STATE": "/tmp"}
        pipeline = build(without_inputs(load_config(str(case / "fluent-bit.conf"), environ=env)))
        (kube,) = pipeline.filters
        await kube.start()
        try:
            got = []
            for tag, events in chunks(case):
                got += [{"tag": tag, "time": ts, "record": rec} for ts, rec in await kube.process(tag, events)]
        finally:
            await kube.stop()
    expected = [json.loads(line) for line in (case / "expected.jsonl").read_text().splitlines()]
    assert len(got) == len(expected)
    for mine, theirs in zip(got, expected, strict=True):
        assert mine["tag"] == theirs["tag"]
        assert mine["record"] == theirs["record"]
        assert list(mine["record"]) == list(theirs["record"])  # key order, the kubernetes map's included
        assert list(mine["record"].get("kubernetes", {})) == list(theirs["record"].get("kubernetes", {}))
        if theirs["time"] is None:  # a parser without Time_Key: the time is now, not the CRI time
            assert mine["time"] > 1_760_000_000 * 10**9
        else:
            assert mine["time"] == theirs["time"]
    # one request per pod, however many containers and records it has
    assert api.count("/pods/") == len({r.path for r in api.requests})
