"""Per-record cost of the kubernetes filter on a 10,000-record chunk, with a warm cache.

Run: ``python -m bench.kubernetes_micro``.  Prints the best of 15 rounds, in microseconds per record, for
the filter alone (defaults; Merge_Log on JSON lines; Merge_Log on plain text;
K8S-Logging.Exclude with an annotation that keeps everything), next to the
cost of a bare CRI split + record + orjson.dumps loop over the same lines
(the floor of a tail -> cri -> sink pipeline, docs/architecture.md, "Performance rules"), and of
the same loop with the JSON ``log`` parsed and merged (what Merge_Log does in
place of a json parser stage), so the ratios are the share enrichment adds.  Metadata comes from a pod file (dry-run
``--kube-meta-dir``), so no network time is measured: after the first chunk a
live API server is not asked again either.
"""

from __future__ import annotations

import asyncio
import gc
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from shipper.plugin import DryRun
from tests.factory import make_context, make_plugin
from tests.servers.kube_api import make_pod

N = 10_000
ROUNDS = 15
DOCKER_ID = "ab" * 32
TAG = f"kube.var.log.containers.web-1_shop_nginx-{DOCKER_ID}.log"
JSON_LINE = '{"level":"info","msg":"request served","status":200,"latency_ms":12.5,"path":"/api/v1/items"}'
TEXT_LINE = '10.0.0.1 - - [05/Mar/2024:10:00:00 +0000] "GET /api/v1/items HTTP/1.1" 200 612 "-" "curl/8.4.0"'


def cri_lines(log: str) -> list[bytes]:
    return [f"2024-03-05T10:00:{i % 60:02d}.{i:09d}Z stdout F {log}".encode() for i in range(N)]


def baseline_us(lines: list[bytes], parse_json: bool) -> float:
    """A bare tail -> cri (-> json) loop: split, decode, build the record, (parse ``log``,) encode it."""
    gc.collect()
    start = time.perf_counter()
    for line in lines:
        stamp, stream, flag, log = line.split(b" ", 3)
        record = {"time": stamp.decode(), "stream": stream.decode(), "_p": flag.decode(), "log": log.decode()}
        if parse_json:
            record.update(orjson.loads(log))
        orjson.dumps(record)
    return (time.perf_counter() - start) / len(lines) * 1e6


def events(lines: list[bytes]) -> list[tuple[int, dict[str, Any]]]:
    out = []
    for i, line in enumerate(lines):
        stamp, stream, flag, log = line.decode().split(" ", 3)
        out.append((i, {"time": stamp, "stream": stream, "_p": flag, "log": log}))
    return out


async def filter_us(directory: Path, props: dict[str, str], lines: list[bytes]) -> float:
    context = make_context()
    context.dry_run = DryRun(log_dir=directory, kube_meta_dir=directory)
    plugin = make_plugin("filter", "kubernetes", props, context=context)
    await plugin.start()
    await plugin.process(TAG, events(lines[:1]))  # warm the cache
    timings = []
    for _ in range(ROUNDS):
        chunk = events(lines)
        gc.collect()
        start = time.perf_counter()
        await plugin.process(TAG, chunk)
        timings.append((time.perf_counter() - start) / N * 1e6)
    await plugin.stop()
    return min(timings)


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        pod = make_pod("shop", "web-1", {"nginx": "nginx:1.25.3"}, annotations={"fluentbit.io/exclude": "false"})
        (directory / "shop_web-1.meta").write_text(json.dumps(pod))
        json_lines, text_lines = cri_lines(JSON_LINE), cri_lines(TEXT_LINE)
        floor = min(baseline_us(json_lines, False) for _ in range(ROUNDS))
        with_json = min(baseline_us(json_lines, True) for _ in range(ROUNDS))
        print(f"baseline cri split + record + orjson.dumps:        {floor:.2f} us/record")
        print(f"same with orjson.loads of the JSON log merged in:   {with_json:.2f} us/record")
        cases = [
            ("defaults (kubernetes map only)", {}, json_lines),
            ("Merge_Log On, JSON log", {"merge_log": "on"}, json_lines),
            ("Merge_Log On, plain-text log", {"merge_log": "on"}, text_lines),
            ("K8S-Logging.Exclude On, nothing excluded", {"k8s-logging.exclude": "on"}, json_lines),
        ]
        for label, props, lines in cases:
            cost = await filter_us(directory, props, lines)
            print(f"{label:45s} {cost:6.2f} us/record  ({cost / floor:6.1%} of the cri baseline)")


if __name__ == "__main__":
    asyncio.run(main())
