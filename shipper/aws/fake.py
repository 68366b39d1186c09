"""What the in-memory fakes of AWS record-batch APIs share (Firehose PutRecordBatch, Kinesis PutRecords).

Each output's ``transport.py`` has a fake of its service for unit tests.  The
batch APIs answer alike: one entry per record sent, in order, an
``ErrorCode`` on the records refused and a count of them.  :class:`RecordBatchFake`
keeps every request, lets a test script the next calls (raise an error, or
answer something else), and refuses the positions ``refuse(call)`` names.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import orjson


class RecordBatchFake:
    """Calls kept in ``calls``; ``errors`` are raised by the next calls, ``answers`` returned by them."""

    #: the error code a refused record gets.
    refusal = "ServiceUnavailableException"

    def __init__(self, refuse: Callable[[int], set[int]] | None = None) -> None:
        self.refuse = refuse or (lambda call: set())
        self.calls: list[dict[str, Any]] = []
        self.errors: list[BaseException] = []
        self.answers: list[dict[str, Any]] = []

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        pass

    def answer(self, body: bytes, accept: Callable[[dict[str, Any], bytes], dict[str, Any]]) -> tuple[int, list[dict[str, Any]]] | dict[str, Any]:
        """The scripted answer of this call, or (refused count, one entry per record).

        ``accept(record, data)`` stores an accepted record and returns its entry.
        """
        request = orjson.loads(body)
        refused = self.refuse(len(self.calls))
        self.calls.append(request)
        if self.errors:
            raise self.errors.pop(0)
        if self.answers:
            return self.answers.pop(0)
        entries = [
            {"ErrorCode": self.refusal, "ErrorMessage": "fake"} if position in refused
            else accept(record, base64.b64decode(record["Data"]))
            for position, record in enumerate(request["Records"])
        ]
        return sum(1 for entry in entries if "ErrorCode" in entry), entries
