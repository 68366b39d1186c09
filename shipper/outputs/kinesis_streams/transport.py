"""How a PutRecords body reaches Kinesis: a small Protocol, the AWS client, and an in-memory fake.

The output depends only on :class:`PutRecordsTransport`, so its batching,
partial failures, answer checks and drop accounting are tested against
:class:`FakeKinesis` without a network, and against moto through
:class:`AwsPutRecords`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from shipper.aws import AwsSettings
from shipper.aws.fake import RecordBatchFake
from shipper.aws.rawbody import RawBodyClient, call_with_body

#: PutRecords parameters botocore validates before the real body replaces them.
_PLACEHOLDER = {"Records": [{"Data": b"-", "PartitionKey": "-"}]}


class PutRecordsTransport(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def put_records(self, stream: str, body: bytes) -> dict[str, Any]:
        """Send one PutRecords body; return the answer's JSON object or raise the service's error."""
        ...


class AwsPutRecords(RawBodyClient):
    """PutRecords through an aiobotocore ``kinesis`` client (SigV4, endpoints and errors stay botocore's)."""

    def __init__(self, aws: AwsSettings) -> None:
        super().__init__("kinesis", aws)

    async def put_records(self, stream: str, body: bytes) -> dict[str, Any]:
        return await call_with_body(self.client.client, "put_records", body, {"StreamName": stream, **_PLACEHOLDER})


class FakeKinesis(RecordBatchFake):
    """An in-memory PutRecords peer for unit tests: keeps accepted ``(partition key, data)`` in ``stored``.

    ``refuse(call) -> set of positions`` decides, per call number (0-based),
    which records come back with ``ProvisionedThroughputExceededException``;
    ``errors`` are raised by the next calls instead, and ``answers`` returned instead.
    """

    refusal = "ProvisionedThroughputExceededException"

    def __init__(self, refuse: Callable[[int], set[int]] | None = None) -> None:
        super().__init__(refuse)
        self.stored: list[tuple[str, bytes]] = []

    def _accept(self, record: dict[str, Any], data: bytes) -> dict[str, Any]:
        self.stored.append((record["PartitionKey"], data))
        return {"SequenceNumber": str(len(self.stored)), "ShardId": "shardId-000000000000"}

    async def put_records(self, stream: str, body: bytes) -> dict[str, Any]:
        answer = self.answer(body, self._accept)
        if isinstance(answer, dict):
            return answer
        failed, entries = answer
        return {"FailedRecordCount": failed, "Records": entries}
