"""cloudwatch_logs' flush against the in-memory fake transport: creation order, partial failures, answers."""

from __future__ import annotations

import time
from typing import Any

from shipper.aws.errors import service_error
from shipper.outputs.cloudwatch_logs import CloudWatchLogs
from shipper.outputs.cloudwatch_logs.transport import FakeLogs
from shipper.outputs.result import FlushResult
from tests.factory import make_plugin


async def started(fake: FakeLogs, **options: str) -> CloudWatchLogs:
    props = {"region": "us-east-1", "log_group_name": "g", "log_stream_name": "s", **options}
    out = make_plugin("output", "cloudwatch_logs", props)
    assert isinstance(out, CloudWatchLogs)
    out.transport = fake
    await out.start()
    return out


def events(n: int, **record: Any) -> list[tuple[int, dict[str, Any]]]:
    now = time.time_ns()
    return [(now + i, {"i": i, **record}) for i in range(n)]


async def test_a_new_group_and_stream_are_created_as_fluent_bit_does_then_events_sent() -> None:
    fake = FakeLogs()
    out = await started(fake, auto_create_group="on", log_retention_days="7")
    assert await out.flush("t", events(3)) == FlushResult.ok()
    assert [op for op, _ in fake.calls] == [
        "CreateLogStream", "CreateLogGroup", "PutRetentionPolicy", "CreateLogStream", "PutLogEvents"
    ]
    assert [e["message"] for e in fake.events("g", "s")] == ['{"i":0}', '{"i":1}', '{"i":2}']
    assert fake.retention == {"g": 7}
    await out.flush("t", events(1))
    assert [op for op, _ in fake.calls][-1:] == ["PutLogEvents"], "the stream is remembered"


async def test_throttling_retries_the_request_events_only() -> None:
    fake = FakeLogs(groups=("g",))
    out = await started(fake, log_stream_template="$s", log_stream_name="fallback")
    batch = events(2, s="a") + events(2, s="b")
    fake.script("PutLogEvents", service_error("ThrottlingException", "Rate exceeded"))
    result = await out.flush("t", batch)
    assert len(result.retry) == 2 and len({r["s"] for _, r in result.retry}) == 1, "one stream's request failed"
    assert "ThrottlingException" in result.retry_reason and not result.dropped
    assert await out.flush("t", result.retry) == FlushResult.ok()
    assert len(fake.events("g", "a")) == len(fake.events("g", "b")) == 2


async def test_a_2xx_that_is_not_the_services_answer_is_retried_not_delivered() -> None:
    fake = FakeLogs(groups=("g",))
    out = await started(fake)
    fake.script("PutLogEvents", {"status": "ok"})
    batch = events(2)
    result = await out.flush("t", batch)
    assert result.retry == batch and "not the service's answer" in result.retry_reason


async def test_events_refused_inside_an_accepted_request_are_dropped_and_counted() -> None:
    fake = FakeLogs(groups=("g",))
    out = await started(fake)
    fake.script("PutLogEvents", {"nextSequenceToken": "1", "rejectedLogEventsInfo": {"tooOldLogEventEndIndex": 1}})
    result = await out.flush("t", events(5))
    assert result.dropped == {"rejected: CloudWatch refused events by time (rejectedLogEventsInfo)": 2}
    assert not result.retry


async def test_access_denied_drops_with_the_services_reason() -> None:
    fake = FakeLogs(groups=("g",))
    out = await started(fake)
    fake.script("PutLogEvents", service_error("AccessDeniedException", "not authorized"))
    result = await out.flush("t", events(3))
    [(reason, count)] = result.dropped.items()
    assert count == 3 and reason.startswith("rejected: PutLogEvents g/s: AccessDeniedException") and not result.retry


async def test_a_missing_group_without_auto_create_is_dropped_with_advice() -> None:
    out = await started(FakeLogs())
    result = await out.flush("t", events(1))
    [(reason, count)] = result.dropped.items()
    assert count == 1 and "auto_create_group" in reason


async def test_a_stream_deleted_behind_our_back_is_created_again() -> None:
    fake = FakeLogs(groups=("g",))
    out = await started(fake)
    await out.flush("t", events(1))
    del fake.groups["g"]["s"]
    assert await out.flush("t", events(1)) == FlushResult.ok()
    assert len(fake.events("g", "s")) == 1
