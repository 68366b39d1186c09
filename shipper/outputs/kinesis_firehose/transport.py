"""How a PutRecordBatch body reaches Firehose: a small Protocol, the AWS client, and an in-memory fake.

The output depends only on :class:`FirehoseTransport`, so its batching,
partial failures and answer checks are unit-tested against
:class:`FakeFirehose` without a network, and against moto through
:class:`AwsFirehose`.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, Protocol

import orjson

from shipper.aws import AwsSettings
from shipper.aws.rawbody import RawBodyClient, call_with_body

#: PutRecordBatch parameters botocore validates before the real body replaces them.
_PLACEHOLDER = {"Records": [{"Data": b"-"}]}


class FirehoseTransport(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def put_record_batch(self, delivery_stream: str, body: bytes) -> dict[str, Any]:
        """Send one PutRecordBatch body; return the answer's JSON object or raise the service's error."""
        ...


class AwsFirehose(RawBodyClient):
    """PutRecordBatch through an aiobotocore ``firehose`` client (SigV4, endpoints and errors stay botocore's)."""

    def __init__(self, aws: AwsSettings) -> None:
        super().__init__("firehose", aws)

    async def put_record_batch(self, delivery_stream: str, body: bytes) -> dict[str, Any]:
        placeholder = {"DeliveryStreamName": delivery_stream, **_PLACEHOLDER}
        return await call_with_body(self.client.client, "put_record_batch", body, placeholder)


class FakeFirehose:
    """An in-memory PutRecordBatch peer for unit tests: keeps accepted records, refuses chosen positions.

    ``refuse(call) -> positions`` decides, per call number (0-based), which
    records come back with ``ServiceUnavailableException``; ``errors`` are
    raised by the next calls instead, and ``answers`` returned instead.
    """

    def __init__(self, refuse: Callable[[int], set[int]] | None = None) -> None:
        self.refuse = refuse or (lambda call: set())
        self.calls: list[dict[str, Any]] = []
        self.stored: list[bytes] = []
        self.errors: list[BaseException] = []
        self.answers: list[dict[str, Any]] = []

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def put_record_batch(self, delivery_stream: str, body: bytes) -> dict[str, Any]:
        request = orjson.loads(body)
        refused = self.refuse(len(self.calls))
        self.calls.append(request)
        if self.errors:
            raise self.errors.pop(0)
        if self.answers:
            return self.answers.pop(0)
        responses: list[dict[str, Any]] = []
        for position, record in enumerate(request["Records"]):
            if position in refused:
                responses.append({"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "fake"})
            else:
                self.stored.append(base64.b64decode(record["Data"]))
                responses.append({"RecordId": str(len(self.stored))})
        failed = sum(1 for answer in responses if "ErrorCode" in answer)
        return {"FailedPutCount": failed, "Encrypted": False, "RequestResponses": responses}
