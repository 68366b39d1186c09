"""Firehose record encoding and PutRecordBatch batching, per chunk.

Each record is sent as Fluent Bit's kinesis_firehose sends it: the record as
compact JSON (with ``time_key`` appended last, formatted by
``time_key_format``), or with ``log_key`` only that value JSON-escaped (golden
cases 45/46), then a newline; optionally compressed record by record.  The
API (PutRecordBatch, https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html)
takes at most 500 records and 4 MiB per call, and at most 1,000 KiB per
record: bigger records are left out and reported.
"""

from __future__ import annotations

import base64
import gzip
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson

from shipper import jsonfmt
from shipper.events import Event
from shipper.outputs.opensearch.index import SecondCache
from shipper.outputs.packing import pack

MAX_BATCH_RECORDS = 500
MAX_BATCH_BYTES = 4 * 1024 * 1024
MAX_RECORD_BYTES = 1_000 * 1024

#: Fluent Bit's sub-second specifiers in ``time_key_format`` and how many digits each prints.
FLUENT_BIT_FRACTIONS = {"%3N": 3, "%9N": 9, "%L": 9}

#: why a record is left out of the requests, by reason code.
REFUSALS = {
    "missing_log_key": "the record has no log_key value",
    "too_large": "larger than the service's 1,000 KiB record limit",
}

try:  # optional: compression zstd
    import zstandard
except ImportError:  # pragma: no cover - depends on the environment
    zstandard = None  # type: ignore[assignment]


def compressor(name: str | None) -> Callable[[bytes], bytes] | None:
    """The per-record compression function for ``compression`` (None = none)."""
    if not name or name == "none":
        return None
    if name == "gzip":
        return lambda data: gzip.compress(data, compresslevel=6, mtime=0)
    if name == "zstd":
        if zstandard is None:
            raise ValueError("compression zstd needs the 'zstandard' Python package (pip install zstandard)")
        return zstandard.ZstdCompressor().compress
    if name == "arrow":
        raise ValueError("compression arrow (Fluent Bit's Apache Arrow build option) is not supported; use gzip or zstd")
    raise ValueError(f"compression {name!r}: expected gzip or zstd")


class TimeFormatter:
    """``time_key_format``: strftime (cached per second, UTC) plus sub-second specifiers.

    ``fractions`` maps each sub-second specifier to its digit count: Fluent
    Bit's by default (``%3N`` ms, ``%9N``/``%L`` ns); the Go plugins pass
    theirs (``%L`` ms, ``%f`` µs).
    """

    def __init__(self, fmt: str, fractions: dict[str, int] = FLUENT_BIT_FRACTIONS) -> None:
        self._parts: list[SecondCache | int] = []
        pos = 0
        pattern = re.compile("|".join(["%%", *map(re.escape, fractions)]))
        for match in pattern.finditer(fmt):
            if match.group() == "%%":
                continue
            self._parts.append(SecondCache(fmt[pos : match.start()]))
            self._parts.append(fractions[match.group()])
            pos = match.end()
        self._parts.append(SecondCache(fmt[pos:]))

    def __call__(self, ts_ns: int) -> str:
        sec, nanos = divmod(ts_ns, 1_000_000_000)
        out = []
        for part in self._parts:
            if type(part) is int:
                out.append(f"{nanos // 10 ** (9 - part):0{part}d}")
            else:
                out.append(part(sec))  # type: ignore[operator]
        return "".join(out)


def encode_records(events: list[Event], log_key: str | None, time_key: str | None, time_format: TimeFormatter | None) -> list[bytes | None]:
    """Each event's Firehose data (text + newline, uncompressed); None when ``log_key`` is missing."""
    dumps = jsonfmt.dumps
    if log_key is not None:
        out: list[bytes | None] = []
        for _, record in events:
            value = record.get(log_key)
            if value is None and log_key not in record:
                out.append(None)
            elif type(value) is str:
                out.append(dumps(value)[1:-1] + b"\n")
            else:
                out.append(dumps(value) + b"\n")
        return out
    if time_key is not None and time_format is not None:
        return [dumps({**record, time_key: time_format(ts)}) + b"\n" for ts, record in events]
    return [dumps(record) + b"\n" for _, record in events]


@dataclass(slots=True)
class PutRecordBatchRequest:
    """One PutRecordBatch: the data of each record and which input events they are."""

    data: list[bytes] = field(default_factory=list)
    indexes: list[int] = field(default_factory=list)
    nbytes: int = 0

    def body(self, delivery_stream: str) -> bytes:
        b64 = base64.b64encode
        records = [{"Data": b64(d).decode("ascii")} for d in self.data]
        return orjson.dumps({"DeliveryStreamName": delivery_stream, "Records": records})


@dataclass(slots=True)
class FirehoseRequests:
    """The requests, and the records left out as (index, reason code)."""

    batches: list[PutRecordBatchRequest] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)


def plan(data: list[bytes | None], compress: Callable[[bytes], bytes] | None = None) -> FirehoseRequests:
    """Compress (optionally) and cut records into requests of at most 500 records / 4 MiB."""
    result = FirehoseRequests()
    kept: list[bytes] = []
    indexes: list[int] = []
    for index, item in enumerate(data):
        if item is None:
            result.refused.append((index, "missing_log_key"))
            continue
        if compress is not None:
            item = compress(item)
        if len(item) > MAX_RECORD_BYTES:
            result.refused.append((index, "too_large"))
            continue
        kept.append(item)
        indexes.append(index)
    sizes = [len(item) for item in kept]
    for part in pack(sizes, MAX_BATCH_RECORDS, MAX_BATCH_BYTES):
        result.batches.append(PutRecordBatchRequest(kept[part], indexes[part], sum(sizes[part])))
    return result
