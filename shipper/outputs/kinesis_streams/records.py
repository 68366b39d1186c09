"""PutRecords request building: records with their partition keys, cut into valid requests.

The API's limits, from the Amazon Kinesis Data Streams API reference for
PutRecords (https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html):
a request carries at most 500 records and 5 MiB including partition keys;
one record (data blob + partition key) may be at most 1 MiB; a partition key
is 1 to 256 Unicode characters.  A record over the limit is left out and
counted by the caller; it would make the whole request fail.
"""

from __future__ import annotations

import base64
import random
import string
from dataclasses import dataclass, field

import orjson

from shipper.outputs.packing import pack

MAX_RECORDS_PER_CALL = 500
MAX_BYTES_PER_CALL = 5 * 1024 * 1024
MAX_RECORD_BYTES = 1024 * 1024
MAX_PARTITION_KEY_CHARS = 256

_KEY_ALPHABET = string.ascii_letters + string.digits
#: partition keys only spread records over shards: a fast non-cryptographic generator is enough.
_RANDOM = random.Random()


@dataclass(frozen=True, slots=True)
class Entry:
    """One PutRecords record: its data blob and partition key."""

    data: bytes
    partition_key: str

    @property
    def size(self) -> int:
        """What counts against the record and request limits: data + partition key (UTF-8)."""
        return len(self.data) + len(self.partition_key.encode("utf-8"))


def random_key(length: int = 10) -> str:
    """A random partition key: records spread evenly over the shards."""
    return "".join(_RANDOM.choices(_KEY_ALPHABET, k=length))


class RandomKeys:
    """Partition keys as Fluent Bit's kinesis_streams makes them: a per-output random prefix + a random part.

    The C plugin writes a 10-character random ID of the output followed by a
    hash of the tag and the current time; the effect is one random key per
    record, which is what this does at lower cost.
    """

    def __init__(self) -> None:
        self.prefix = random_key(10)

    def __call__(self) -> str:
        return f"{self.prefix}{_RANDOM.randrange(7919)}{_RANDOM.randrange(7919)}"


@dataclass(slots=True)
class PutRecordsRequest:
    """One PutRecords request: its records and which input events they carry (one list per record)."""

    entries: list[Entry] = field(default_factory=list)
    events: list[list[int]] = field(default_factory=list)
    nbytes: int = 0

    def body(self, stream: str) -> bytes:
        """The PutRecords JSON body (``Data`` base64, as the JSON protocol wants blobs)."""
        b64 = base64.b64encode
        records = [{"Data": b64(e.data).decode("ascii"), "PartitionKey": e.partition_key} for e in self.entries]
        return orjson.dumps({"StreamName": stream, "Records": records})


@dataclass(slots=True)
class KinesisRequests:
    """The requests for one chunk, and the records left out for being over :data:`MAX_RECORD_BYTES`."""

    batches: list[PutRecordsRequest] = field(default_factory=list)
    too_large: list[int] = field(default_factory=list)


def plan(entries: list[tuple[Entry, list[int]]]) -> KinesisRequests:
    """Cut records (each with the input event indexes it carries) into requests within the limits."""
    result = KinesisRequests()
    kept = []
    for entry, events in entries:
        if entry.size > MAX_RECORD_BYTES:
            result.too_large.extend(events)
        else:
            kept.append((entry, events))
    sizes = [entry.size for entry, _ in kept]
    for part in pack(sizes, MAX_RECORDS_PER_CALL, MAX_BYTES_PER_CALL):
        chosen = kept[part]
        result.batches.append(PutRecordsRequest([e for e, _ in chosen], [ev for _, ev in chosen], sum(sizes[part])))
    return result
