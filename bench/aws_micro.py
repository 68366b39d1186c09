"""Per-event cost of building AWS requests, and flush throughput against a local moto.

Run: ``python -m bench.aws_micro [--moto]``.

The micro part times, on 10,000-event chunks of kubernetes-enriched container
records (~300 bytes of JSON each), the three steps of a CloudWatch flush —
encoding records as Fluent Bit's JSON (``jsonfmt``), batching (window checks,
sorting, splitting by the API limits) and building the PutLogEvents bodies
with orjson — and the same for Firehose (encode + time_key, batching,
base64 bodies).  Kinesis Data Streams is timed whole (encoding, partition
keys, batching, bodies) for ``kinesis_streams`` and for the Go plugin name
``kinesis`` with a ``partition_key`` and with KPL ``aggregation``.  "request building" is batching + bodies: the part the AWS
outputs add on top of the record encoding every JSON output pays.  Times are
CPU time of this process (``time.process_time``), best of several rounds.

``--moto`` also starts a moto server and flushes 50,000 events through the
real ``cloudwatch_logs`` output, reporting events/s and requests/s and how
much of the wall time this process spent on CPU (the rest is moto's).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import time
from collections.abc import Callable
from typing import Any

from bench.timing import best_cpu_seconds
from shipper.outputs.cloudwatch_logs.request import encode_messages, plan as cw_plan
from shipper.outputs.kinesis_firehose.request import TimeFormatter, encode_records, plan as fh_plan

N = 10_000
ROUNDS = 7
LEVELS = ("info", "debug", "warn", "error")


def record(i: int) -> dict[str, Any]:
    return {
        "time": f"2024-03-05T10:00:{i % 60:02d}.{i:09d}Z",
        "stream": "stdout",
        "_p": "F",
        "log": f'{{"level":"{LEVELS[i % 4]}","msg":"request served","path":"/api/v1/orders/{i}","status":{200 + i % 5}}}',
        "kubernetes": {
            "pod_name": "web-7d9f8c6b5-x2x9z",
            "namespace_name": "shop",
            "container_name": "web",
            "labels": {"app": "web", "pod-template-hash": "7d9f8c6b5"},
        },
    }


def events(count: int) -> list[tuple[int, dict[str, Any]]]:
    now = time.time_ns()
    return [(now - (count - i) * 1_000_000, record(i)) for i in range(count)]


def best(step: Callable[[], Any]) -> float:
    """Best CPU seconds of ``ROUNDS`` runs of ``step``, each after a full collection."""
    return best_cpu_seconds(step, ROUNDS, gc.collect)


def micro() -> None:
    chunk = events(N)
    now_ms = time.time_ns() // 1_000_000
    messages = encode_messages(chunk, None)
    planned = cw_plan(chunk, list(messages), now_ms)
    fmt = TimeFormatter("%Y-%m-%dT%H:%M:%S.%3NZ")
    records = encode_records(chunk, None, "ts", fmt)
    fh_planned = fh_plan(records)
    rows = [
        ("cloudwatch encode (jsonfmt per record)", best(lambda: encode_messages(chunk, None))),
        ("cloudwatch batching (window, sort, split)", best(lambda: cw_plan(chunk, list(messages), now_ms))),
        ("cloudwatch bodies (orjson per request)", best(lambda: [b.body("g", "s") for b in planned.batches])),
        ("firehose encode (+ time_key)", best(lambda: encode_records(chunk, None, "ts", fmt))),
        ("firehose batching", best(lambda: fh_plan(records))),
        ("firehose bodies (base64 + orjson)", best(lambda: [b.body("ds") for b in fh_planned.batches])),
    ]
    rows += kinesis_rows(chunk)
    for name, seconds in rows:
        print(f"{name:48s} {seconds / N * 1e6:6.2f} µs/event")
    print(f"{'cloudwatch request building (batching+bodies)':48s} {(rows[1][1] + rows[2][1]) / N * 1e6:6.2f} µs/event")
    print(f"{'firehose request building (batching+bodies)':48s} {(rows[4][1] + rows[5][1]) / N * 1e6:6.2f} µs/event")


def kinesis_rows(chunk: list[tuple[int, dict[str, Any]]]) -> list[tuple[str, float]]:
    """Whole PutRecords request building (encode, keys, batching, bodies) per output configuration."""
    from tests.factory import make_plugin

    def build(options: dict[str, str], name: str = "kinesis") -> Callable[[], Any]:
        output: Any = make_plugin("output", name, {"region": "us-east-1", "stream": "s", **options})

        def run() -> Any:
            planned, _ = output._plan("t", chunk)
            return [b.body("s") for b in planned.batches]

        return run

    return [
        ("kinesis_streams (encode, keys, batches, bodies)", best(build({}, "kinesis_streams"))),
        ("kinesis Go (Go JSON, partition_key)", best(build({"partition_key": "kubernetes->pod_name"}))),
        ("kinesis Go with KPL aggregation", best(build({"aggregation": "true"}))),
    ]


async def through_moto(total: int = 50_000, chunk_size: int = 5_000) -> None:
    from tests.factory import make_context, make_plugin
    from tests.servers.moto import MotoServer

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    server = MotoServer().start()
    try:
        output: Any = make_plugin("output", "cloudwatch_logs", {
            "region": "us-east-1", "endpoint": server.url, "log_group_name": "bench",
            "log_stream_prefix": "s-", "auto_create_group": "on",
        }, context=make_context())
        await output.start()
        try:
            await output.flush("warmup", events(10))
            chunks = [events(chunk_size) for _ in range(total // chunk_size)]
            wall, cpu = time.perf_counter(), time.process_time()
            for i, chunk in enumerate(chunks):
                await output.flush(f"tag{i % 4}", chunk)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            requests = output.metrics.value("shipper_cloudwatch_requests_total", name=output.instance_name) - 1
        finally:
            await output.stop()
    finally:
        server.stop()
    print(f"moto: {total} events in {wall:.2f} s = {total / wall:,.0f} events/s, {requests / wall:.1f} requests/s; "
          f"shipper CPU {cpu:.2f} s ({cpu / wall:.0%} of wall; the rest is moto)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moto", action="store_true", help="also flush 50,000 events to a local moto server")
    args = parser.parse_args()
    micro()
    if args.moto:
        asyncio.run(through_moto())


if __name__ == "__main__":
    main()
