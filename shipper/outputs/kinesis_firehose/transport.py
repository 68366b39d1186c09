"""How a PutRecordBatch body reaches Firehose: a small Protocol, the AWS client, and an in-memory fake.

The output depends only on :class:`FirehoseTransport`, so its batching,
partial failures and answer checks are unit-tested against
:class:`FakeFirehose` without a network, and against moto through
:class:`AwsFirehose`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from shipper.aws import AwsSettings
from shipper.aws.fake import RecordBatchFake
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


class FakeFirehose(RecordBatchFake):
    """An in-memory PutRecordBatch peer for unit tests: keeps accepted records' data in ``stored``.

    ``refuse(call) -> positions`` decides, per call number (0-based), which
    records come back with ``ServiceUnavailableException``; ``errors`` are
    raised by the next calls instead, and ``answers`` returned instead.
    """

    def __init__(self, refuse: Callable[[int], set[int]] | None = None) -> None:
        super().__init__(refuse)
        self.stored: list[bytes] = []

    def _accept(self, record: dict[str, Any], data: bytes) -> dict[str, Any]:
        self.stored.append(data)
        return {"RecordId": str(len(self.stored))}

    async def put_record_batch(self, delivery_stream: str, body: bytes) -> dict[str, Any]:
        answer = self.answer(body, self._accept)
        if isinstance(answer, dict):
            return answer
        failed, entries = answer
        return {"FailedPutCount": failed, "Encrypted": False, "RequestResponses": entries}
