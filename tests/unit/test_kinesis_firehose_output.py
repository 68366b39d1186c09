"""kinesis_firehose's flush against the in-memory fake transport: partial failures, drops, answers."""

from __future__ import annotations

import orjson

from shipper.aws.errors import service_error
from shipper.outputs.kinesis_firehose import KinesisFirehose
from shipper.outputs.kinesis_firehose.request import MAX_RECORD_BYTES
from shipper.outputs.kinesis_firehose.transport import FakeFirehose
from shipper.outputs.result import FlushResult
from tests.factory import make_plugin


async def started(fake: FakeFirehose, **options: str) -> KinesisFirehose:
    out = make_plugin("output", "kinesis_firehose", {"region": "us-east-1", "delivery_stream": "d", **options})
    assert isinstance(out, KinesisFirehose)
    out.transport = fake
    await out.start()
    return out


def events(n: int) -> list[tuple[int, dict[str, int]]]:
    return [(i, {"i": i}) for i in range(n)]


async def test_records_are_json_lines_in_requests_of_500() -> None:
    fake = FakeFirehose()
    out = await started(fake)
    assert await out.flush("t", events(1_200)) == FlushResult.ok()
    assert [len(call["Records"]) for call in fake.calls] == [500, 500, 200]
    assert fake.stored[:2] == [b'{"i":0}\n', b'{"i":1}\n']


async def test_a_partial_failure_retries_only_the_refused_records() -> None:
    fake = FakeFirehose(refuse=lambda call: {1, 3} if call == 0 else set())
    out = await started(fake)
    batch = events(5)
    result = await out.flush("t", batch)
    assert result.retry == [batch[1], batch[3]] and "2 of 5 records failed" in result.retry_reason
    assert await out.flush("t", result.retry) == FlushResult.ok()
    assert sorted(orjson.loads(data)["i"] for data in fake.stored) == [0, 1, 2, 3, 4]


async def test_a_failed_call_retries_it_and_every_later_request() -> None:
    fake = FakeFirehose()
    out = await started(fake)
    fake.errors.append(service_error("ServiceUnavailableException", status=503))
    batch = events(600)
    result = await out.flush("t", batch)
    assert result.retry == batch and "ServiceUnavailableException" in result.retry_reason


async def test_a_2xx_that_is_not_the_services_answer_is_retried() -> None:
    fake = FakeFirehose()
    out = await started(fake)
    fake.answers.append({"FailedPutCount": 0, "RequestResponses": []})  # one entry short of the records sent
    batch = events(1)
    result = await out.flush("t", batch)
    assert result.retry == batch and "not the service's answer" in result.retry_reason


async def test_an_oversize_record_is_dropped_and_the_rest_go_out() -> None:
    fake = FakeFirehose()
    out = await started(fake)
    result = await out.flush("t", [(1, {"big": "x" * MAX_RECORD_BYTES}), (2, {"small": 1})])
    assert fake.stored == [b'{"small":1}\n']
    assert result.dropped == {"too_large: larger than the service's 1,000 KiB record limit": 1}
