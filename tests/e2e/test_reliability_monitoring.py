"""The monitoring endpoints answer with Fluent Bit's documented shapes while a pipeline ships.

A tail → cloudwatch_logs (moto) pipeline runs under a writer; every endpoint
is read mid-run and the shapes are those of Fluent Bit's monitoring docs
(build info, uptime, v1 JSON metrics with its fixed keys, storage layer,
health, hot-reload count).  Both Prometheus endpoints are fed to
prometheus-client's text parser, which raises on anything malformed, and
the v1 text agrees with the v1 JSON.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bench.reliability import Setup, Writer, child_env, delivered
from tests.poll import wait_for
from tests.servers.moto import MotoServer

INPUT_KEYS = {"records", "bytes"}
OUTPUT_KEYS = {"proc_records", "proc_bytes", "errors", "retries", "retries_failed", "dropped_records", "retried_records"}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text body, by (name, sorted labels); the parser rejects bad text."""
    parsed = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            parsed[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return parsed


@pytest.mark.slow
def test_endpoints_answer_with_fluent_bits_shapes_under_load(tmp_path: Path, moto_server: MotoServer) -> None:  # noqa: F811
    moto_server.reset()
    setup = Setup(tmp_path, moto_server.url)
    shipper = setup.shipper()
    writer = Writer(setup.logs, files=4, lines=1500, rate=1000, rotate_every=1000, env=child_env(tmp_path))
    try:
        shipper.start().wait_ready()
        wait_for(lambda: len(delivered(moto_server.url)) >= 500, 30, 0.2, "records flowing")

        status, body = shipper.get("/")
        build = orjson.loads(body)["fluent-bit"]
        assert status == 200 and {"version", "edition", "flags"} <= build.keys()

        status, body = shipper.get("/api/v1/uptime")
        uptime = orjson.loads(body)
        assert status == 200 and uptime["uptime_sec"] >= 0 and "uptime_hr" in uptime

        status, body = shipper.get("/api/v1/metrics")
        metrics = orjson.loads(body)
        assert status == 200
        assert set(metrics["input"]) == {"tail.0"} and INPUT_KEYS <= metrics["input"]["tail.0"].keys()
        assert set(metrics["output"]) == {"cloudwatch_logs.0"}
        assert OUTPUT_KEYS <= metrics["output"]["cloudwatch_logs.0"].keys()
        assert metrics["input"]["tail.0"]["records"] > 0 and metrics["output"]["cloudwatch_logs.0"]["proc_records"] > 0

        status, body = shipper.get("/api/v1/metrics/prometheus")
        v1 = samples(body.decode())
        assert status == 200
        records = v1[("fluentbit_input_records_total", (("name", "tail.0"),))]
        assert records >= metrics["input"]["tail.0"]["records"]  # counters only grow between the two reads
        assert ("fluentbit_output_proc_records_total", (("name", "cloudwatch_logs.0"),)) in v1
        assert any(name == "process_start_time_seconds" for name, _ in v1)

        status, body = shipper.get("/api/v2/metrics/prometheus")
        v2 = samples(body.decode())
        assert status == 200
        assert any(name == "fluentbit_uptime" for name, _ in v2)
        assert ("fluentbit_output_retries_total", (("name", "cloudwatch_logs.0"),)) in v2
        assert any(name.startswith("shipper_output_delivery_latency_seconds") for name, _ in v2)

        status, body = shipper.get("/api/v1/storage")
        storage = orjson.loads(body)
        assert status == 200
        assert {"total_chunks", "mem_chunks", "fs_chunks", "fs_chunks_up", "fs_chunks_down"} <= storage[
            "storage_layer"]["chunks"].keys()
        assert {"overlimit", "mem_size", "mem_limit"} <= storage["input_chunks"]["tail.0"]["status"].keys()

        assert shipper.get("/api/v1/health") == (200, b"ok\n")
        status, body = shipper.get("/api/v2/reload")
        assert status == 200 and orjson.loads(body) == {"hot_reload_count": 0}

        writer.wait(timeout=60)
        assert shipper.stop() == 0
    finally:
        writer.stop()
        shipper.ensure_stopped()
