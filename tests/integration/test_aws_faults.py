"""Fault injection on top of moto: the engine's retries recover throttling/5xx without loss or
duplicates; access errors are not retried; hung connections time out; assumed roles are used."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from shipper.engine.delivery import Delivery
from shipper.engine.output_runner import OutputRunner
from shipper.outputs.result import FlushResult
from shipper.packed import Packed
from shipper.plugin import Output
from tests.factory import make_context, make_plugin
from tests.integration.aws_helpers import REGION, read_back, running, s3_objects
from tests.servers.moto import MotoServer, RecordingProxy

pytestmark = pytest.mark.usefixtures("aws_env")

TEMPLATED = {
    "log_group_name": "g",
    "log_stream_name": "fallback",
    "log_stream_template": "$stream",
    "auto_create_group": "on",
}


async def deliver(output: Output, tag: str, events: list[Any], retry_limit: int = 5) -> None:
    """Run the events through the engine's output runner (fast backoff) until it is done with them."""
    runner = OutputRunner(output, lambda _tag: True, retry_limit, scheduler_base=0.01, scheduler_cap=0.05)
    done = asyncio.Event()
    runner.start()
    try:
        runner.submit(tag, Packed.encode(events), Delivery(None, None, 0, lambda _d: done.set()))
        runner.flush_pending()
        await asyncio.wait_for(done.wait(), timeout=60)
    finally:
        await runner.close()


def metric(output: Output, name: str) -> float:
    return output.metrics.value(name, name=output.instance_name)


async def test_throttling_and_500s_are_retried_without_loss(moto_server: MotoServer, moto_proxy: RecordingProxy) -> None:
    now = time.time_ns()
    events = [(now + i, {"stream": "s1" if i % 2 else "s2", "i": i}) for i in range(20)]
    moto_proxy.fail("PutLogEvents", 400, "ThrottlingException", "Rate exceeded", times=1)
    moto_proxy.fail("CreateLogGroup", 500, "ServiceUnavailableException", times=1)
    async with running("cloudwatch_logs", moto_proxy, **TEMPLATED) as out:
        await deliver(out, "t", events)
        retries = metric(out, "fluentbit_output_retries_total")
        dropped = metric(out, "fluentbit_output_dropped_records_total")
    s1 = [e["message"] for e in await read_back(moto_server, "g", "s1")]
    s2 = [e["message"] for e in await read_back(moto_server, "g", "s2")]
    assert sorted(s1 + s2) == sorted(f'{{"stream":"{"s1" if i % 2 else "s2"}","i":{i}}}' for i in range(20))
    assert len(s1) == len(set(s1)) == 10 and len(s2) == len(set(s2)) == 10  # nothing sent twice
    assert retries >= 1 and dropped == 0


async def test_a_failed_stream_is_retried_alone(moto_server: MotoServer, moto_proxy: RecordingProxy) -> None:
    now = time.time_ns()
    async with running("cloudwatch_logs", moto_proxy, **TEMPLATED) as out:
        await out.flush("t", [(now, {"stream": "s1", "i": 0}), (now, {"stream": "s2", "i": 1})])  # creates both
        moto_proxy.clear()
        moto_proxy.fail("PutLogEvents", 503, "ServiceUnavailableException", times=1)
        failure = await out.flush("t", [(now + 1, {"stream": "s1", "i": 2}), (now + 1, {"stream": "s2", "i": 3})])
        assert len(failure.retry) == 1 and "ServiceUnavailableException" in failure.retry_reason
        assert await out.flush("t", failure.retry) == FlushResult.ok()
    assert len(await read_back(moto_server, "g", "s1")) == 2
    assert len(await read_back(moto_server, "g", "s2")) == 2


async def test_access_denied_is_not_retried_and_is_reported(
    moto_proxy: RecordingProxy, caplog: pytest.LogCaptureFixture
) -> None:
    now = time.time_ns()
    moto_proxy.fail("PutLogEvents", 400, "AccessDeniedException", "User is not authorized to perform logs:PutLogEvents", times=100)
    caplog.set_level(logging.ERROR)
    async with running("cloudwatch_logs", moto_proxy, log_group_name="g", log_stream_name="s", auto_create_group="on") as out:
        await deliver(out, "t", [(now + i, {"i": i}) for i in range(5)], retry_limit=10)
        dropped = metric(out, "fluentbit_output_dropped_records_total")
        retries = metric(out, "fluentbit_output_retries_total")
    assert len(moto_proxy.calls("PutLogEvents")) == 1
    assert dropped == 5 and retries == 0
    assert "AccessDeniedException" in caplog.text and "not authorized" in caplog.text


async def test_firehose_throttling_then_partial_failure(
    moto_server: MotoServer, moto_proxy: RecordingProxy, delivery_stream: str
) -> None:
    moto_proxy.fail("PutRecordBatch", 400, "ThrottlingException", times=1)
    moto_proxy.fail_firehose_records({0, 5})
    async with running("kinesis_firehose", moto_proxy, delivery_stream=delivery_stream) as out:
        await deliver(out, "t", [(i, {"i": i}) for i in range(8)])
        failed = metric(out, "shipper_firehose_failed_records_total")
    sizes = [len(c.decoded_data) for c in moto_proxy.calls("PutRecordBatch")]
    assert sizes == [8, 8, 2]
    delivered = b"".join(await s3_objects(moto_server)).splitlines()
    assert sorted(delivered) == sorted(b'{"i":%d}' % i for i in range(8))
    assert failed == 2


CAPTIVE_PORTAL = b"<html><body>Please log in to continue</body></html>"


@pytest.mark.parametrize(
    "body,content_type",
    [(CAPTIVE_PORTAL, "text/html"), (b'{"status":"ok"}', "application/json"), (b"[]", "application/x-amz-json-1.1")],
)
async def test_cloudwatch_2xx_that_is_not_the_services_answer_is_retried_not_counted_delivered(
    moto_server: MotoServer, moto_proxy: RecordingProxy, body: bytes, content_type: str
) -> None:
    """Issue 18.5: a proxy answering 200 with its own page lost records with errors = 0."""
    now = time.time_ns()
    moto_proxy.reply_raw("PutLogEvents", body, content_type, times=2)
    async with running("cloudwatch_logs", moto_proxy, log_group_name="g", log_stream_name="s", auto_create_group="on") as out:
        await deliver(out, "t", [(now + i, {"i": i}) for i in range(10)])
        retries = metric(out, "fluentbit_output_retries_total")
        errors = metric(out, "fluentbit_output_errors_total")
    assert [e["message"] for e in await read_back(moto_server, "g", "s")] == [f'{{"i":{i}}}' for i in range(10)]
    assert retries == errors == 2
    assert len(moto_proxy.calls("PutLogEvents")) == 3


@pytest.mark.parametrize(
    "body,content_type",
    [(CAPTIVE_PORTAL, "text/html"), (b'{"FailedPutCount":0}', "application/x-amz-json-1.1")],
)
async def test_firehose_2xx_that_is_not_the_services_answer_is_retried_not_counted_delivered(
    moto_server: MotoServer, moto_proxy: RecordingProxy, delivery_stream: str, body: bytes, content_type: str
) -> None:
    moto_proxy.reply_raw("PutRecordBatch", body, content_type, times=1)
    async with running("kinesis_firehose", moto_proxy, delivery_stream=delivery_stream) as out:
        await deliver(out, "t", [(i, {"i": i}) for i in range(5)])
        retries = metric(out, "fluentbit_output_retries_total")
    delivered = b"".join(await s3_objects(moto_server)).splitlines()
    assert sorted(delivered) == sorted(b'{"i":%d}' % i for i in range(5))
    assert retries == 1


@pytest.fixture
async def hung_server() -> AsyncIterator[int]:
    """Accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_a_hung_endpoint_times_out_as_retryable(hung_server: int) -> None:
    output = make_plugin("output", "cloudwatch_logs", {
        "region": REGION, "endpoint": f"http://127.0.0.1:{hung_server}", "log_group_name": "g",
        "log_stream_name": "s", "net.read_timeout": "0.5s", "net.connect_timeout": "0.5s",
    }, context=make_context())
    assert isinstance(output, Output)
    await output.start()
    try:
        result = await asyncio.wait_for(output.flush("t", [(time.time_ns(), {"a": 1})]), timeout=30)
        assert re.search("CreateLogStream g/s: .*[Tt]imeout", result.retry_reason)
    finally:
        await output.stop()


async def test_role_arn_assumes_a_role_through_sts_endpoint(moto_server: MotoServer, moto_proxy: RecordingProxy) -> None:
    async with running("cloudwatch_logs", moto_proxy, log_group_name="g", log_stream_name="s", auto_create_group="on",
                       role_arn="arn:aws:iam::123456789012:role/shipper", external_id="ext-1",
                       sts_endpoint=moto_server.url) as out:
        await out.flush("t", [(time.time_ns(), {"a": 1})])
    authorization = moto_proxy.calls("PutLogEvents")[0].headers["Authorization"]
    assert "Credential=ASIA" in authorization  # temporary keys from AssumeRole, not the static "testing"
    assert len(await read_back(moto_server, "g", "s")) == 1


async def test_irsa_web_identity_from_the_default_chain(
    moto_server: MotoServer, moto_proxy: RecordingProxy, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.e30.signature")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/irsa")
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(token))
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", moto_server.url)
    async with running("cloudwatch_logs", moto_proxy, log_group_name="g", log_stream_name="s", auto_create_group="on") as out:
        await out.flush("t", [(time.time_ns(), {"a": 1})])
    assert "Credential=ASIA" in moto_proxy.calls("PutLogEvents")[0].headers["Authorization"]
