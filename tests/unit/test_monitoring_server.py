"""The monitoring API answers with Fluent Bit's endpoint shapes (served on 127.0.0.1)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from types import SimpleNamespace

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from shipper.metrics import Metrics
from shipper.monitoring import MonitoringServer
from shipper.monitoring.tap import TapHub
from tests.factory import make_context


def fake_pipeline() -> SimpleNamespace:
    """Two inputs (one aliased), a filter and two outputs, as the engine's pipeline exposes them."""
    plugin = SimpleNamespace
    return SimpleNamespace(
        inputs=[plugin(instance_name="tail.0", settings={"mem_buf_limit": 5_000_000}), plugin(instance_name="app_logs", settings={})],
        filters=[plugin(instance_name="kubernetes.0")],
        outputs=[plugin(instance_name="cloudwatch_logs.0"), plugin(instance_name="firehose_out")],
    )


def counted_metrics() -> Metrics:
    metrics = Metrics()
    metrics.inc("fluentbit_input_records_total", 120, name="tail.0")
    metrics.inc("fluentbit_input_bytes_total", 24_000, name="tail.0")
    metrics.inc("fluentbit_input_files_rotated_total", 2, name="tail.0")
    metrics.inc("fluentbit_output_proc_records_total", 100, name="cloudwatch_logs.0")
    metrics.inc("fluentbit_output_dropped_records_total", 3, name="cloudwatch_logs.0", reason="too_old")
    metrics.inc("fluentbit_output_dropped_records_total", 1, name="cloudwatch_logs.0", reason="too_large")
    metrics.inc("fluentbit_output_errors_total", 2, name="firehose_out")
    metrics.inc("fluentbit_filter_drop_records_total", 7, name="kubernetes.0")  # the v1-style name counts too
    metrics.set("fluentbit_input_storage_memory_bytes", 1536, name="tail.0")
    metrics.set("fluentbit_input_storage_chunks", 3, name="tail.0")
    metrics.set("fluentbit_storage_chunks", 3)
    metrics.set("shipper_oldest_unacked_age_seconds", 4.5, name="tail.0")
    metrics.observe("shipper_output_delivery_latency_seconds", 0.3, times=10, name="cloudwatch_logs.0")
    return metrics


class Client:
    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session, self.base = session, base

    async def get(self, path: str) -> tuple[int, str, str]:
        async with self.session.get(self.base + path) as response:
            return response.status, response.headers.get("Content-Type", ""), await response.text()

    async def request(self, method: str, path: str) -> tuple[int, dict]:
        async with self.session.request(method, self.base + path, data="{}") as response:
            return response.status, await response.json(content_type=None)


async def serve(server: MonitoringServer) -> AsyncIterator[Client]:
    await server.start()
    try:
        async with aiohttp.ClientSession() as session:
            yield Client(session, f"http://127.0.0.1:{server.port}")
    finally:
        await server.stop()


@pytest.fixture
def metrics() -> Metrics:
    return counted_metrics()


@pytest.fixture
async def client(metrics: Metrics) -> AsyncIterator[Client]:
    service = make_context(
        http_server="on", http_listen="127.0.0.1", http_port="0", health_check="on", **{"storage.metrics": "on"}
    ).service
    server = MonitoringServer(service, metrics, fake_pipeline, start_time=1_700_000_000.0)
    async for c in serve(server):
        yield c


async def test_root_has_fluent_bit_build_information_shape(client: Client) -> None:
    status, ctype, text = await client.get("/")
    body = json.loads(text)
    assert status == 200 and ctype.startswith("application/json")
    assert set(body["fluent-bit"]) == {"version", "edition", "flags"}
    assert "FLB_HAVE_METRICS" in body["fluent-bit"]["flags"]


async def test_uptime_shape(client: Client) -> None:
    status, _, text = await client.get("/api/v1/uptime")
    body = json.loads(text)
    assert status == 200
    assert set(body) == {"uptime_sec", "uptime_hr"}
    assert isinstance(body["uptime_sec"], int) and body["uptime_sec"] > 0
    assert "has been running:" in body["uptime_hr"]


async def test_v1_metrics_lists_every_instance_with_fluent_bit_keys(client: Client) -> None:
    status, _, text = await client.get("/api/v1/metrics")
    body = json.loads(text)
    assert status == 200
    assert list(body) == ["input", "filter", "output"]
    assert body["input"]["tail.0"] == {"records": 120, "bytes": 24_000, "files_rotated": 2}
    assert body["input"]["app_logs"] == {"records": 0, "bytes": 0}
    assert body["filter"]["kubernetes.0"] == {"drop_records": 7, "add_records": 0}
    assert body["output"]["cloudwatch_logs.0"] == {
        "proc_records": 100,
        "proc_bytes": 0,
        "errors": 0,
        "retries": 0,
        "retries_failed": 0,
        "dropped_records": 4,
        "retried_records": 0,
    }
    assert body["output"]["firehose_out"]["errors"] == 2


async def test_v1_prometheus_parses_and_uses_fluent_bit_names(client: Client) -> None:
    status, ctype, text = await client.get("/api/v1/metrics/prometheus")
    assert status == 200 and ctype.startswith("text/plain; version=0.0.4")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    records = samples[("fluentbit_input_records_total", (("name", "tail.0"),))]
    assert records.value == 120 and records.timestamp is not None
    assert samples[("fluentbit_input_records_total", (("name", "app_logs"),))].value == 0
    assert samples[("fluentbit_output_dropped_records_total", (("name", "cloudwatch_logs.0"),))].value == 4
    assert samples[("fluentbit_filter_drop_records_total", (("name", "kubernetes.0"),))].value == 7
    assert samples[("process_start_time_seconds", ())].value == 1_700_000_000
    assert samples[("shipper_output_delivery_latency_seconds_count", (("name", "cloudwatch_logs.0"),))].value == 10
    assert "# TYPE fluentbit_output_proc_records_total counter" in text


async def test_v2_prometheus_parses_with_hostname_and_zero_series(client: Client) -> None:
    status, _, text = await client.get("/api/v2/metrics/prometheus")
    assert status == 200
    families = {family.name: family for family in text_string_to_metric_families(text)}
    uptime = families["fluentbit_uptime"].samples[0]
    assert "hostname" in uptime.labels and uptime.value > 0
    dropped = {s.labels["name"]: s.value for s in families["fluentbit_filter_dropped_records"].samples}
    assert dropped == {"kubernetes.0": 7}
    assert "fluentbit_filter_drop_records" not in families
    proc = {s.labels["name"]: s.value for s in families["fluentbit_output_proc_records"].samples}
    assert proc == {"cloudwatch_logs.0": 100, "firehose_out": 0}
    by_reason = {
        s.labels.get("reason"): s.value
        for s in families["fluentbit_output_dropped_records"].samples
        if s.labels["name"] == "cloudwatch_logs.0"
    }
    assert by_reason == {"too_old": 3, "too_large": 1}
    assert families["fluentbit_input_storage_memory_bytes"].type == "gauge"
    buckets = [s for s in families["shipper_output_delivery_latency_seconds"].samples if s.name.endswith("_bucket")]
    assert {s.labels["le"]: s.value for s in buckets}["0.5"] == 10


async def test_storage_shape_with_human_sizes(client: Client) -> None:
    status, _, text = await client.get("/api/v1/storage")
    body = json.loads(text)
    assert status == 200
    assert body["storage_layer"]["chunks"] == {
        "total_chunks": 3,
        "mem_chunks": 0,
        "fs_chunks": 0,
        "fs_chunks_up": 0,
        "fs_chunks_down": 0,
    }
    assert body["input_chunks"]["tail.0"] == {
        "status": {"overlimit": False, "mem_size": "1.5K", "mem_limit": "4.8M"},
        "chunks": {"total": 3, "up": 0, "down": 0, "busy": 0, "busy_size": "0b"},
    }
    assert body["input_chunks"]["app_logs"]["status"]["mem_limit"] == "0b"


async def test_health_ok_until_errors_exceed_the_limit(client: Client, metrics: Metrics) -> None:
    assert await client.get("/api/v1/health") == (200, "text/plain; charset=utf-8", "ok\n")
    metrics.inc("fluentbit_output_errors_total", 5, name="firehose_out")  # exactly HC_Errors_Count: still ok
    assert (await client.get("/api/v1/health"))[0] == 200
    metrics.inc("fluentbit_output_errors_total", 1, name="cloudwatch_logs.0")  # the sixth, summed over outputs
    status, _, text = await client.get("/api/v1/health")
    assert (status, text) == (500, "error\n")


async def test_reload_not_enabled_without_hot_reload(client: Client) -> None:
    assert await client.request("POST", "/api/v2/reload") == (200, {"reload": "not enabled", "status": -1})
    assert await client.request("GET", "/api/v2/reload") == (200, {"hot_reload_count": 0})
    assert (await client.get("/api/v2/reload"))[0] == 200


async def test_reload_calls_the_engine_callback() -> None:
    calls: list[str] = []
    outcome = {"applied": True}
    metrics = Metrics()

    async def reload() -> bool:
        calls.append("reload")
        metrics.inc("shipper_reloads_total", result="applied" if outcome["applied"] else "rejected")
        return outcome["applied"]

    service = make_context(http_server="on", http_listen="127.0.0.1", http_port="0", hot_reload="on").service
    async for c in serve(MonitoringServer(service, metrics, lambda: None, reload=reload)):
        assert await c.request("POST", "/api/v2/reload") == (200, {"reload": "done", "status": 0})
        assert await c.request("PUT", "/api/v2/reload") == (200, {"reload": "done", "status": 0})
        assert await c.request("GET", "/api/v2/reload") == (200, {"hot_reload_count": 2})
        families = {f.name: f for f in text_string_to_metric_families((await c.get("/api/v2/metrics/prometheus"))[2])}
        assert families["fluentbit_hot_reloaded_times"].samples[0].value == 2
        outcome["applied"] = False
        assert await c.request("POST", "/api/v2/reload") == (400, {"reload": "rejected", "status": -3})
        assert (await c.request("DELETE", "/api/v2/reload"))[0] == 400
        # Health and storage are off in this config, as in Fluent Bit: not served.
        assert (await c.get("/api/v1/health"))[0] == 404
        assert (await c.get("/api/v1/storage"))[0] == 404
        # No pipeline yet: the metrics endpoints still answer.
        assert (await c.get("/api/v1/metrics"))[0] == 200
    assert calls == ["reload"] * 3


async def test_port_in_use_raises_and_leaves_nothing_running() -> None:
    service = make_context(http_listen="127.0.0.1", http_port="0").service
    async for c in serve(MonitoringServer(service, Metrics(), lambda: None)):
        port = int(c.base.rsplit(":", 1)[1])
        taken = make_context(http_listen="127.0.0.1", http_port=str(port)).service
        second = MonitoringServer(taken, Metrics(), lambda: None)
        with pytest.raises(OSError):
            await second.start()
        await second.stop()


async def test_tap_route_exists_only_with_http_tap(client: Client) -> None:
    status, _, _ = await client.get("/api/v1/tap?name=tail.0")
    assert status == 404  # the default fixture's server has HTTP_Tap off


@pytest.fixture
async def tap_client(metrics: Metrics) -> AsyncIterator[Client]:
    service = make_context(http_server="on", http_listen="127.0.0.1", http_port="0", http_tap="on").service
    server = MonitoringServer(service, metrics, fake_pipeline, tap=TapHub())
    async for c in serve(server):
        yield c


@pytest.mark.parametrize(
    ("query", "status", "error"),
    [
        ("name=nope", 404, "no instance named 'nope'"),
        ("name=tail.0&limit=x", 400, "limit must be a whole number and rate a number"),
        ("name=tail.0&rate=0", 400, "limit and rate must be positive"),
        ("name=tail.0&limit=-1", 400, "limit and rate must be positive"),
    ],
)
async def test_tap_refuses_bad_requests_with_a_reason(tap_client: Client, query: str, status: int, error: str) -> None:
    got, ctype, text = await tap_client.get("/api/v1/tap?" + query)
    body = json.loads(text)
    assert (got, body["error"]) == (status, error) and ctype.startswith("application/json")
    if status == 404:
        assert body["instances"] == ["tail.0", "app_logs", "kubernetes.0", "cloudwatch_logs.0", "firehose_out"]
