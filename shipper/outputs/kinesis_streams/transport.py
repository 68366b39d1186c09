"""How a PutRecords body reaches Kinesis: a small Protocol, the AWS client, and an in-memory fake.

The output depends only on :class:`PutRecordsTransport`, so its batching,
partial failures, answer checks and drop accounting are tested against
:class:`FakeKinesis` without a network, and against moto through
:class:`AwsPutRecords`.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, Protocol

import orjson

from shipper.aws import AwsSettings
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


class FakeKinesis:
    """An in-memory PutRecords peer for unit tests: keeps accepted records, can refuse chosen positions.

    ``refuse(call) -> set of positions`` decides, per call number (0-based),
    which records come back with ``ProvisionedThroughputExceededException``;
    ``errors`` are raised by the next calls instead, and ``answers`` returned instead.
    """

    def __init__(self, refuse: Callable[[int], set[int]] | None = None) -> None:
        self.refuse = refuse or (lambda call: set())
        self.calls: list[dict[str, Any]] = []
        self.stored: list[tuple[str, bytes]] = []
        self.errors: list[BaseException] = []
        self.answers: list[dict[str, Any]] = []

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def put_records(self, stream: str, body: bytes) -> dict[str, Any]:
        request = orjson.loads(body)
        refused = self.refuse(len(self.calls))
        self.calls.append(request)
        if self.errors:
            raise self.errors.pop(0)
        if self.answers:
            return self.answers.pop(0)
        answers: list[dict[str, Any]] = []
        for position, record in enumerate(request["Records"]):
            if position in refused:
                answers.append({"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "fake"})
            else:
                self.stored.append((record["PartitionKey"], base64.b64decode(record["Data"])))
                answers.append({"SequenceNumber": str(len(self.stored)), "ShardId": "shardId-000000000000"})
        return {"FailedRecordCount": len(refused & set(range(len(answers)))), "Records": answers}
