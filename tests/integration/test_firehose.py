"""kinesis_firehose against moto (records land in the S3 bucket behind the delivery stream)."""

from __future__ import annotations

import gzip

import pytest

from shipper.outputs.kinesis_firehose.request import MAX_BATCH_BYTES, MAX_BATCH_RECORDS
from tests.integration.aws_helpers import flush_all, running, s3_objects
from tests.servers.moto import MotoServer, RecordingProxy

pytestmark = pytest.mark.usefixtures("aws_env")


def sent_records(proxy: RecordingProxy) -> list[bytes]:
    return [data for call in proxy.calls("PutRecordBatch") for data in call.decoded_data]


async def test_time_key_and_json_records_land_in_s3(moto_server: MotoServer, moto_proxy: RecordingProxy, delivery_stream: str) -> None:
    events = [
        (1709632800123456789, {"log": "first event", "level": "info"}),
        (1709632801000000000, {"log": "{\"json\":\"text in log\"}", "nested": {"a": [1, 2]}}),
        (1709632802500000000, {"log": "unicode caf\u00e9 \u2713"}),
    ]
    async with running("kinesis_firehose", moto_proxy, delivery_stream=delivery_stream,
                       time_key="ts_out", time_key_format="%Y-%m-%dT%H:%M:%S.%3NZ") as out:
        await out.flush("app.events", events)
    expected = (
        b'{"log":"first event","level":"info","ts_out":"2024-03-05T10:00:00.123Z"}\n'
        b'{"log":"{\\"json\\":\\"text in log\\"}","nested":{"a":[1,2]},"ts_out":"2024-03-05T10:00:01.000Z"}\n'
        b'{"log":"unicode caf\\u00e9 \\u2713","ts_out":"2024-03-05T10:00:02.500Z"}\n'
    )
    assert await s3_objects(moto_server) == [expected]
    assert len(moto_proxy.calls("PutRecordBatch")) == 1


async def test_log_key_sends_the_json_escaped_value(moto_server: MotoServer, moto_proxy: RecordingProxy, delivery_stream: str) -> None:
    events = [(1, {"log": "first event"}), (2, {"log": "{\"json\":1}"}), (3, {"level": "no log"}), (4, {"log": "caf\u00e9"})]
    async with running("kinesis_firehose", moto_proxy, delivery_stream=delivery_stream, log_key="log") as out:
        result = await out.flush("t", events)
    assert sent_records(moto_proxy) == [b"first event\n", b'{\\"json\\":1}\n', b"caf\\u00e9\n"]
    assert result.dropped == {"missing_log_key: the record has no log_key value": 1}


async def test_1200_records_become_3_requests(moto_server: MotoServer, moto_proxy: RecordingProxy, delivery_stream: str) -> None:
    events = [(i, {"i": i}) for i in range(1_200)]
    async with running("kinesis_firehose", moto_proxy, delivery_stream=delivery_stream) as out:
        await out.flush("t", events)
    calls = moto_proxy.calls("PutRecordBatch")
    assert [len(c.decoded_data) for c in calls] == [500, 500, 200]
    assert b"".join(await s3_objects(moto_server)).count(b"\n") == 1_200


async def test_request_bytes_and_oversized_records(moto_server: MotoServer, moto_proxy: RecordingProxy, delivery_stream: str) -> None:
    events = [(i, {"blob": "x" * 300_000, "i": i}) for i in range(30)] + [(99, {"blob": "y" * 1_100_000})]
    async with running("kinesis_firehose", moto_proxy, delivery_stream=delivery_stream) as out:
        await out.flush("t", events)
        skipped = out.metrics.value("shipper_firehose_skipped_records_total", name=out.instance_name, reason="too_large")
    calls = moto_proxy.calls("PutRecordBatch")
    assert all(sum(map(len, c.decoded_data)) <= MAX_BATCH_BYTES and len(c.decoded_data) <= MAX_BATCH_RECORDS for c in calls)
    assert len(sent_records(moto_proxy)) == 30 and len(calls) >= 3
    assert skipped == 1


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
async def test_compression_round_trips(moto_server: MotoServer, moto_proxy: RecordingProxy, delivery_stream: str, compression: str) -> None:
    if compression == "zstd":
        zstandard = pytest.importorskip("zstandard")
        def decompress(data: bytes) -> bytes:
            return zstandard.ZstdDecompressor().decompressobj().decompress(data)
    else:
        decompress = gzip.decompress
    events = [(i, {"i": i, "msg": "hello " * 20}) for i in range(10)]
    async with running("kinesis_firehose", moto_proxy, delivery_stream=delivery_stream, compression=compression) as out:
        await out.flush("t", events)
    records = sent_records(moto_proxy)
    assert [decompress(r) for r in records] == [b'{"i":%d,"msg":"%s"}\n' % (i, b"hello " * 20) for i in range(10)]
    assert all(len(r) < 60 for r in records)


async def test_partial_failure_retries_only_failed_records(moto_server: MotoServer, moto_proxy: RecordingProxy, delivery_stream: str) -> None:
    events = [(i, {"i": i}) for i in range(10)]
    moto_proxy.fail_firehose_records({1, 4, 7})
    async with running("kinesis_firehose", moto_proxy, delivery_stream=delivery_stream) as out:
        flushes = await flush_all(out, "t", events)
    assert flushes == 2
    calls = moto_proxy.calls("PutRecordBatch")
    assert [len(c.decoded_data) for c in calls] == [10, 3]
    assert calls[1].decoded_data == [b'{"i":1}\n', b'{"i":4}\n', b'{"i":7}\n']
    delivered = b"".join(await s3_objects(moto_server)).splitlines()
    assert sorted(delivered) == sorted(b'{"i":%d}' % i for i in range(10))  # each exactly once


async def test_go_firehose_sends_go_json_lines(moto_server: MotoServer, moto_proxy: RecordingProxy, delivery_stream: str) -> None:
    events = [(1709632800123456789, {"z": 1, "a.b": "<x>", "kubernetes": {"pod.name": "p"}}), (2, {"log": "only"})]
    async with running("firehose", moto_proxy, url_endpoint=True, delivery_stream=delivery_stream, time_key="t",
                       time_key_format="%H:%M:%S.%f", replace_dots="_", simple_aggregation="true") as out:
        await out.flush("app", events)
    assert b"".join(await s3_objects(moto_server)) == (
        b'{"a_b":"\\u003cx\\u003e","kubernetes":{"pod_name":"p"},"t":"10:00:00.123456","z":1}\n'
        b'{"log":"only","t":"00:00:00.000000"}\n'
    )


async def test_go_firehose_log_key_sends_strings_raw(moto_server: MotoServer, moto_proxy: RecordingProxy, delivery_stream: str) -> None:
    events = [(1, {"log": 'say "hi"'}), (2, {"log": {"n": 1}}), (3, {"other": 1})]
    async with running("firehose", moto_proxy, url_endpoint=True, delivery_stream=delivery_stream, log_key="log") as out:
        dropped = (await out.flush("app", events)).dropped_count
    assert sent_records(moto_proxy) == [b'say "hi"\n', b'{"n":1}\n'] and dropped == 1
