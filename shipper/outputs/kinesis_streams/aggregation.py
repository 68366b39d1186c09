"""The KPL aggregated record format, written by hand (the Go plugin ``kinesis``'s ``aggregation``).

Format (amazon-kinesis-producer's aggregation-format.md): the 4-byte magic
``F3 89 9A C2``, then a protobuf ``AggregatedRecord``, then the MD5 digest of
that protobuf::

    message AggregatedRecord {
      repeated string partition_key_table     = 1;
      repeated string explicit_hash_key_table = 2;
      repeated Record records                 = 3;
    }
    message Record {
      required uint64 partition_key_index     = 1;
      optional uint64 explicit_hash_key_index = 2;
      required bytes  data                    = 3;
    }

Only fields 1 and 3 are written, so the encoding is a few varints and
length-delimited fields.  Consumers (the KCL, Firehose) split the record back
into the user records.  The aggregated record goes to the shard of the first
partition key in its table, so records with different keys share a shard.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator

from shipper.outputs.kinesis_streams.records import MAX_RECORD_BYTES, Entry, random_key

MAGIC = b"\xf3\x89\x9a\xc2"
DIGEST_BYTES = 16  # MD5
#: the Go plugin's default ``skip_aggregation_record_size``: bigger records are sent on their own.
DEFAULT_SKIP_SIZE = 20 * 1024

_WIRE_VARINT = 0
_WIRE_BYTES = 2


def varint(value: int) -> bytes:
    """Protobuf base-128 varint of a non-negative integer."""
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (string, bytes or embedded message)."""
    return varint(number << 3 | _WIRE_BYTES) + varint(len(payload)) + payload


def encode_record(key_index: int, data: bytes) -> bytes:
    """One ``Record`` message."""
    return varint(1 << 3 | _WIRE_VARINT) + varint(key_index) + _field(3, data)


class Aggregator:
    """Packs user records into aggregated records of at most ``max_size`` bytes (data + partition key).

    :meth:`add` returns the records ready to send (a full aggregate, or a
    record too big to aggregate, sent as is); :meth:`finish` returns the last
    partial aggregate.  Each comes with the input event indexes it carries.
    A record without a partition key (None) takes the aggregate's own key,
    drawn from ``new_key`` once per aggregate.
    """

    def __init__(
        self, max_size: int = MAX_RECORD_BYTES, skip_size: int = DEFAULT_SKIP_SIZE, new_key: Callable[[], str] = random_key
    ) -> None:
        self.max_size = max_size
        self.skip_size = skip_size
        self.new_key = new_key
        self._own_key: str | None = None
        self._keys: dict[str, int] = {}
        self._parts: list[bytes] = []
        self._events: list[int] = []
        self._proto_bytes = 0

    def _size_with(self, key: str, record: bytes) -> int:
        """Size of the aggregate once ``record`` (and ``key``, if new) is added."""
        size = self._proto_bytes + len(_field(3, record))
        if key not in self._keys:
            size += len(_field(1, key.encode("utf-8")))
        first_key = next(iter(self._keys), key)
        return len(MAGIC) + size + DIGEST_BYTES + len(first_key.encode("utf-8"))

    def add(self, key: str | None, data: bytes, event: int) -> Iterator[tuple[Entry, list[int]]]:
        if len(data) >= self.skip_size:
            yield Entry(data, key or self.new_key()), [event]
            return
        chosen = key if key is not None else self._own_key or self.new_key()
        record = encode_record(self._keys.get(chosen, len(self._keys)), data)
        if self._parts and self._size_with(chosen, record) > self.max_size:
            yield self.finish()  # type: ignore[misc]
            chosen = key if key is not None else self.new_key()
            record = encode_record(0, data)
        if key is None:
            self._own_key = chosen
        if chosen not in self._keys:
            self._keys[chosen] = len(self._keys)
            self._proto_bytes += len(_field(1, chosen.encode("utf-8")))
        self._parts.append(_field(3, record))
        self._proto_bytes += len(self._parts[-1])
        self._events.append(event)

    def finish(self) -> tuple[Entry, list[int]] | None:
        """The pending aggregate (None when empty); the aggregator starts over."""
        if not self._parts:
            return None
        table = b"".join(_field(1, key.encode("utf-8")) for key in self._keys)
        proto = table + b"".join(self._parts)
        entry = Entry(MAGIC + proto + hashlib.md5(proto).digest(), next(iter(self._keys)))
        events = self._events
        self._keys, self._parts, self._events, self._proto_bytes, self._own_key = {}, [], [], 0, None
        return entry, events
