"""kinesis_streams: record encoding, PutRecords limits, partial failures and drops, against the in-memory fake."""

from __future__ import annotations

import base64

import orjson
import pytest

from shipper.errors import ConfigError
from shipper.outputs.kinesis_streams import KinesisStreams
from shipper.outputs.kinesis_streams.aggregation import Aggregator
from shipper.outputs.kinesis_streams.records import (
    MAX_BYTES_PER_CALL,
    MAX_RECORD_BYTES,
    MAX_RECORDS_PER_CALL,
    Entry,
    plan,
)
from shipper.outputs.kinesis_streams.transport import FakeKinesis
from tests.factory import make_plugin
from tests.kpl import deaggregate

TS = 1709632800123456789  # 2024-03-05T10:00:00.123456789Z


def output(fake: FakeKinesis, **options: str) -> KinesisStreams:
    out = make_plugin("output", "kinesis_streams", {"region": "us-east-1", "stream": "logs", **options})
    assert isinstance(out, KinesisStreams)
    out.transport = fake
    return out


def test_requests_respect_the_record_count_byte_and_record_size_limits() -> None:
    entries = [(Entry(b"x" * 900_000, "k"), [i]) for i in range(12)]
    entries += [(Entry(b"y" * (MAX_RECORD_BYTES - 1), "kk"), [12])]  # data + key over 1 MiB by one byte
    entries += [(Entry(b"z\n", "k"), [13 + i]) for i in range(1_000)]
    result = plan(entries)
    assert result.too_large == [12]
    assert all(b.nbytes <= MAX_BYTES_PER_CALL and len(b.entries) <= MAX_RECORDS_PER_CALL for b in result.batches)
    assert sorted(i for b in result.batches for group in b.events for i in group) == [i for i in range(1_013) if i != 12]
    assert len(result.batches[0].entries) == 5  # 5 x 900,000 bytes fit in 5 MiB, 6 do not


async def test_records_are_fluent_bit_json_lines_with_random_partition_keys() -> None:
    fake = FakeKinesis()
    out = output(fake, time_key="ts", time_key_format="%Y-%m-%dT%H:%M:%S.%3NZ")
    await out.flush("app", [(TS, {"log": "caf\u00e9", "n": 1}), (TS, {"log": "two"})])
    assert [data for _, data in fake.stored] == [
        b'{"log":"caf\\u00e9","n":1,"ts":"2024-03-05T10:00:00.123Z"}\n',
        b'{"log":"two","ts":"2024-03-05T10:00:00.123Z"}\n',
    ]
    keys = [key for key, _ in fake.stored]
    assert len(set(keys)) == 2 and all(1 <= len(k) <= 256 and k[:10] == keys[0][:10] for k in keys)
    assert fake.calls[0]["StreamName"] == "logs"


async def test_log_key_sends_the_value_and_counts_records_without_it() -> None:
    fake = FakeKinesis()
    out = output(fake, log_key="log")
    result = await out.flush("app", [(1, {"log": "a \"q\""}), (2, {"other": 1}), (3, {"log": ""}), (4, {})])
    assert [data for _, data in fake.stored] == [b'a \\"q\\"\n']
    assert result.dropped_count == 2  # no "log" key; the empty value is skipped, as Fluent Bit does, and not a drop
    assert out.metrics.value("shipper_kinesis_skipped_records_total", name=out.instance_name, reason="empty") == 1


async def test_a_partial_failure_retries_only_the_refused_records() -> None:
    fake = FakeKinesis(refuse=lambda call: {1, 3} if call == 0 else set())
    out = output(fake)
    events = [(i, {"i": i}) for i in range(5)]
    result = await out.flush("app", events)
    assert result.retry == [events[1], events[3]]
    await out.flush("app", result.retry)
    assert sorted(orjson.loads(data)["i"] for _, data in fake.stored) == [0, 1, 2, 3, 4]


async def test_an_oversize_record_is_dropped_and_counted_and_the_rest_go_out() -> None:
    fake = FakeKinesis()
    out = output(fake)
    result = await out.flush("app", [(1, {"big": "x" * MAX_RECORD_BYTES}), (2, {"small": 1})])
    assert [data for _, data in fake.stored] == [b'{"small":1}\n']
    assert result.dropped == {"too_large: the record is larger than Kinesis's 1 MiB record limit": 1}
    assert out.metrics.value("shipper_kinesis_skipped_records_total", name=out.instance_name, reason="too_large") == 1


def test_dry_run_shows_each_record_and_the_request_count() -> None:
    out = output(FakeKinesis())
    batch = out.dry_run("app", [(i, {"i": i}) for i in range(501)])
    assert batch.requests == 2 and len(batch.items) == 501
    assert batch.items[0].payload == '{"i":0}\n' and batch.items[0].destination["stream"] == "logs"


def test_dry_run_shows_left_out_records_with_their_reason() -> None:
    out = output(FakeKinesis(), log_key="log")
    batch = out.dry_run("app", [(1, {"log": "ok"}), (2, {"other": 1}), (3, {"log": "x" * MAX_RECORD_BYTES})])
    assert [(i.payload[:10], i.refused) for i in batch.items] == [
        ("ok\n", None), ('{"other":1', "missing_log_key"), ('{"log":"xx', "too_large")
    ]
    assert set(batch.reasons) >= {"missing_log_key", "too_large"}


def test_body_is_the_put_records_json_shape() -> None:
    body = orjson.loads(plan([(Entry(b"hi\n", "pk"), [0])]).batches[0].body("s"))
    assert body == {"StreamName": "s", "Records": [{"Data": base64.b64encode(b"hi\n").decode(), "PartitionKey": "pk"}]}


def test_aggregates_stay_within_their_size_and_round_trip() -> None:
    aggregator = Aggregator(max_size=10_000, skip_size=2_000, new_key=lambda: "own")
    out = []
    for i in range(300):
        out += aggregator.add(f"k{i % 4}" if i % 2 else None, b"%d;" % i + b"x" * 100, i)
    out += aggregator.add("big", b"y" * 2_000, 300)
    last = aggregator.finish()
    assert last is not None and aggregator.finish() is None
    out.append(last)
    assert all(entry.size <= 10_000 for entry, _ in out)
    decoded = [(key, data) for entry, _ in out for key, data in deaggregate(entry.data)]
    assert sorted(int(data.split(b";")[0]) for _, data in decoded if b";" in data) == list(range(300))
    assert (None, b"y" * 2_000) in decoded  # over skip_size: sent as a plain record
    assert {key for key, _ in decoded} == {"own", "k1", "k3", None}
    assert sorted(i for _, events in out for i in events) == list(range(301))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"partition_key": "log"}, "'log' cannot be set as the partition key"),
        ({"experimental_concurrency": "11"}, "experimental_concurrency must be 0 to 10"),
        ({"compression": "lz4"}, "expected one of zlib, gzip, none"),
    ],
)
def test_go_kinesis_refuses_what_the_go_plugin_refuses(options: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_plugin("output", "kinesis", {"region": "us-east-1", "stream": "s", **options})


def test_go_kinesis_dry_run_shows_user_records_under_their_aggregate_key() -> None:
    out = make_plugin("output", "kinesis", {"region": "us-east-1", "stream": "s", "aggregation": "true", "compression": "gzip"})
    batch = out.dry_run("app", [(1, {"i": 1}), (2, {"i": 2})])
    assert [i.payload for i in batch.items] == ['{"i":1}', '{"i":2}'] and batch.requests == 1
    assert batch.items[0].destination == batch.items[1].destination


async def test_a_2xx_answer_that_is_not_the_services_is_retried_not_delivered() -> None:
    fake = FakeKinesis()
    fake.answers.append({"message": "welcome to the proxy"})
    out = output(fake)
    events = [(1, {"i": 1}), (2, {"i": 2})]
    result = await out.flush("app", events)
    assert result.retry == events and "not the service's answer" in result.retry_reason
    assert (await out.flush("app", result.retry)).retry == [] and len(fake.stored) == 2
