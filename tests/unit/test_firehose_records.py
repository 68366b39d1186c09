"""Firehose record encoding, time_key formats, batching limits, and the output's dry-run."""

from __future__ import annotations

import gzip

import pytest

from shipper.errors import ConfigError
from shipper.outputs.kinesis_firehose.request import (
    MAX_BATCH_BYTES,
    MAX_BATCH_RECORDS,
    MAX_RECORD_BYTES,
    TimeFormatter,
    compressor,
    encode_records,
    plan,
)
from tests.factory import make_plugin

TS = 1709632800123456789  # 2024-03-05T10:00:00.123456789Z


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("%Y-%m-%dT%H:%M:%S", "2024-03-05T10:00:00"),
        ("%Y-%m-%dT%H:%M:%S.%3NZ", "2024-03-05T10:00:00.123Z"),
        ("%H:%M:%S.%9N", "10:00:00.123456789"),
        ("%s.%L", "1709632800.123456789"),
        ("100%% %3N", "100% 123"),
    ],
)
def test_time_key_format(fmt: str, expected: str) -> None:
    assert TimeFormatter(fmt)(TS) == expected


def test_records_json_with_time_key_last_or_escaped_log_key() -> None:
    events = [(TS, {"log": "caf\u00e9 \"q\"", "n": 1})]
    assert encode_records(events, None, "ts", TimeFormatter("%S.%3N")) == [b'{"log":"caf\\u00e9 \\"q\\"","n":1,"ts":"00.123"}\n']
    assert encode_records(events, "log", None, None) == [b'caf\\u00e9 \\"q\\"\n']
    assert encode_records([(TS, {"x": 1}), (TS, {"log": [1]})], "log", None, None) == [None, b"[1]\n"]


def test_batches_respect_count_bytes_and_record_limits() -> None:
    small = [b"x\n"] * 1_200
    assert [len(b.data) for b in plan(small).batches] == [500, 500, 200]
    big = [b"y" * 900_000] * 10 + [b"z" * (MAX_RECORD_BYTES + 1), None]
    result = plan(big)
    assert result.refused == [(10, "too_large"), (11, "missing_log_key")]
    assert all(b.nbytes <= MAX_BATCH_BYTES and len(b.data) <= MAX_BATCH_RECORDS for b in result.batches)
    assert sum(len(b.data) for b in result.batches) == 10


def test_gzip_applies_per_record_before_the_size_checks() -> None:
    result = plan([b"a" * (MAX_RECORD_BYTES + 10)], compressor("gzip"))
    assert result.refused == [] and gzip.decompress(result.batches[0].data[0]) == b"a" * (MAX_RECORD_BYTES + 10)


def test_unsupported_compression_is_a_config_error() -> None:
    with pytest.raises(ValueError):
        compressor("lz4")
    with pytest.raises(ConfigError, match="arrow"):
        make_plugin("output", "kinesis_firehose", {"region": "us-east-1", "delivery_stream": "ds", "compression": "arrow"})


def test_dry_run_payloads_and_request_count() -> None:
    out = make_plugin("output", "kinesis_firehose", {"region": "us-east-1", "delivery_stream": "ds", "time_key": "t"})
    batch = out.dry_run("x", [(TS, {"i": i}) for i in range(501)])
    assert batch.requests == 2
    assert batch.items[0].destination == {"delivery_stream": "ds"}
    assert batch.items[0].payload == '{"i":0,"t":"2024-03-05T10:00:00"}\n'


def test_firehose_requires_a_delivery_stream() -> None:
    with pytest.raises(ConfigError, match="delivery_stream"):
        make_plugin("output", "kinesis_firehose", {"region": "us-east-1"})
