"""A KPL de-aggregator written from the format description, independent of the encoder under test.

``deaggregate(data)`` returns the user records of an aggregated Kinesis
record as (partition key, data) pairs, checking the magic number and the MD5
digest; plain (unaggregated) data comes back as one record with key None.
"""

from __future__ import annotations

import hashlib

MAGIC = bytes.fromhex("f3899ac2")


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _fields(buf: bytes) -> list[tuple[int, int | bytes]]:
    """(field number, value) of a protobuf message: varints as int, length-delimited as bytes."""
    out: list[tuple[int, int | bytes]] = []
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
            out.append((number, value))
        elif wire == 2:
            length, pos = _varint(buf, pos)
            out.append((number, buf[pos : pos + length]))
            pos += length
        else:
            raise ValueError(f"unexpected wire type {wire}")
    return out


def deaggregate(data: bytes) -> list[tuple[str | None, bytes]]:
    if not data.startswith(MAGIC):
        return [(None, data)]
    proto, digest = data[4:-16], data[-16:]
    assert hashlib.md5(proto).digest() == digest, "bad MD5 of an aggregated record"
    keys: list[str] = []
    records: list[tuple[str | None, bytes]] = []
    pending: list[tuple[int, bytes]] = []
    for number, value in _fields(proto):
        if number == 1:
            assert isinstance(value, bytes)
            keys.append(value.decode("utf-8"))
        elif number == 3:
            assert isinstance(value, bytes)
            inner = dict(_fields(value))
            index, payload = inner[1], inner[3]
            assert isinstance(index, int) and isinstance(payload, bytes)
            pending.append((index, payload))
    records = [(keys[index], payload) for index, payload in pending]
    return records
