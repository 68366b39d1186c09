"""kinesis_streams and the Go plugin kinesis against moto's Kinesis (records read back with GetRecords)."""

from __future__ import annotations

import zlib

import orjson
import pytest

from shipper.outputs.kinesis_streams.records import MAX_BYTES_PER_CALL, MAX_RECORDS_PER_CALL
from tests.integration.aws_helpers import flush_all, kinesis_records, running
from tests.kpl import deaggregate
from tests.servers.moto import MotoServer, RecordingProxy

pytestmark = pytest.mark.usefixtures("aws_env")

TS = 1709632800123456789  # 2024-03-05T10:00:00.123456789Z


async def test_records_arrive_as_fluent_bit_json_lines(moto_server: MotoServer, moto_proxy: RecordingProxy, kinesis_stream: str) -> None:
    events = [(TS, {"log": "first", "level": "info"}), (TS, {"log": "caf\u00e9"})]
    async with running("kinesis_streams", moto_proxy, stream=kinesis_stream, time_key="t", time_key_format="%H:%M:%S.%3N") as out:
        await out.flush("app", events)
    stored = sorted(data for _, data in await kinesis_records(moto_server))
    assert stored == [b'{"log":"caf\\u00e9","t":"10:00:00.123"}\n', b'{"log":"first","level":"info","t":"10:00:00.123"}\n']


async def test_1200_records_take_3_requests(moto_server: MotoServer, moto_proxy: RecordingProxy, kinesis_stream: str) -> None:
    async with running("kinesis_streams", moto_proxy, stream=kinesis_stream) as out:
        await out.flush("app", [(i, {"i": i}) for i in range(1_200)])
    assert [len(c.body["Records"]) for c in moto_proxy.calls("PutRecords")] == [500, 500, 200]
    assert sorted(orjson.loads(d)["i"] for _, d in await kinesis_records(moto_server)) == list(range(1_200))


async def test_big_records_split_by_bytes_and_an_oversize_one_is_dropped(
    moto_server: MotoServer, moto_proxy: RecordingProxy, kinesis_stream: str
) -> None:
    events = [(i, {"blob": "x" * 700_000, "i": i}) for i in range(16)] + [(99, {"blob": "y" * 1_100_000})]
    async with running("kinesis_streams", moto_proxy, stream=kinesis_stream) as out:
        dropped = (await out.flush("app", events)).dropped_count
    calls = moto_proxy.calls("PutRecords")
    for call in calls:
        sizes = [len(r["Data"]) * 3 // 4 + len(r["PartitionKey"]) for r in call.body["Records"]]
        assert sum(sizes) <= MAX_BYTES_PER_CALL and len(sizes) <= MAX_RECORDS_PER_CALL
    assert len(calls) == 3 and dropped == 1
    assert sorted(orjson.loads(d)["i"] for _, d in await kinesis_records(moto_server)) == list(range(16))


async def test_partial_failure_resends_only_the_refused_records(
    moto_server: MotoServer, moto_proxy: RecordingProxy, kinesis_stream: str
) -> None:
    moto_proxy.fail_kinesis_records({2, 5})
    events = [(i, {"i": i}) for i in range(8)]
    async with running("kinesis_streams", moto_proxy, stream=kinesis_stream) as out:
        assert await flush_all(out, "app", events) == 2
    assert [len(c.body["Records"]) for c in moto_proxy.calls("PutRecords")] == [8, 2]
    assert sorted(orjson.loads(d)["i"] for _, d in await kinesis_records(moto_server)) == list(range(8))


async def test_go_kinesis_record_shape_and_nested_partition_key(
    moto_server: MotoServer, moto_proxy: RecordingProxy, kinesis_stream: str
) -> None:
    events = [(TS, {"z": 1, "log": "<b>", "kubernetes": {"pod_name": "web-1"}, "a.b": 2}), (TS, {"log": "no pod"})]
    options = {"partition_key": "kubernetes->pod_name", "append_newline": "true", "time_key": "ts",
               "time_key_format": "%S.%L", "replace_dots": "_", "data_keys": "log,a.b,ts,z"}
    async with running("kinesis", moto_proxy, url_endpoint=True, stream=kinesis_stream, **options) as out:
        await out.flush("app", events)
    stored = {data: key for key, data in await kinesis_records(moto_server)}
    assert stored.keys() == {b'{"a_b":2,"log":"\\u003cb\\u003e","ts":"00.123","z":1}\n', b'{"log":"no pod","ts":"00.123"}\n'}
    assert stored[b'{"a_b":2,"log":"\\u003cb\\u003e","ts":"00.123","z":1}\n'] == "web-1"
    assert len(stored[b'{"log":"no pod","ts":"00.123"}\n']) == 8  # random, as the Go plugin's


async def test_go_kinesis_aggregation_round_trips_through_our_decoder(
    moto_server: MotoServer, moto_proxy: RecordingProxy, kinesis_stream: str
) -> None:
    events = [(i, {"i": i, "pad": "p" * 50}) for i in range(3_000)] + [(9, {"big": "b" * 30_000})]
    async with running("kinesis", moto_proxy, url_endpoint=True, stream=kinesis_stream, aggregation="true", compression="zlib") as out:
        await out.flush("app", events)
    stored = await kinesis_records(moto_server)
    assert len(stored) < 10  # 3,000 small records fit in a few aggregated records; the big one goes alone
    user_records = [zlib.decompress(data) for _, blob in stored for _, data in deaggregate(blob)]
    numbers = sorted(orjson.loads(r)["i"] for r in user_records if b'"i"' in r)
    assert numbers == list(range(3_000)) and sum(b'"big"' in r for r in user_records) == 1
    assert all(key for key, _ in stored)
