"""Classify a PutRecords answer: is it the service's, and which records did it refuse.

A 2xx answer is the service's only when it is the documented JSON object
(Amazon Kinesis Data Streams API reference, PutRecords, Response Syntax:
https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html):
``FailedRecordCount`` and one ``Records`` entry per record sent, in order.
Anything else (a proxy's page, some other JSON) is retried, never counted
as delivered.  Entries with an ``ErrorCode`` are the records to retry.
Errors of a whole call are classified by :mod:`shipper.aws.errors`.
"""

from __future__ import annotations

from typing import Any

import orjson

from shipper.aws.rawbody import unexpected


def failed_positions(answer: dict[str, Any], sent: int) -> list[int]:
    """Positions of the records the call refused; raises UnexpectedAnswer for an answer not the service's."""
    records = answer.get("Records")
    count = answer.get("FailedRecordCount")
    if count is None and isinstance(records, list) and len(records) == sent:
        count = 0  # the service leaves the count out when nothing failed
    if type(count) is not int or not isinstance(records, list) or len(records) != sent:
        raise unexpected("PutRecords", f"not FailedRecordCount and {sent} Records", orjson.dumps(answer))
    if not count:
        return []
    return [i for i, item in enumerate(records) if isinstance(item, dict) and item.get("ErrorCode")]


def first_error(answer: dict[str, Any]) -> str:
    """``Code: message`` of the first refused record, for the log line."""
    for item in answer.get("Records", []):
        if item.get("ErrorCode"):
            return f"{item['ErrorCode']}: {item.get('ErrorMessage', '')}"
    return ""
