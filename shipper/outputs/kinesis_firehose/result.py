"""Classify a PutRecordBatch answer: is it the service's, and which records did it refuse.

A 2xx answer is the service's only when it is the documented JSON object
(API reference, PutRecordBatch, Response Syntax:
https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html):
``FailedPutCount`` and one ``RequestResponses`` entry per record sent, in
order.  Anything else (a proxy's page, some other JSON) is retried, never
counted as delivered.  Entries with an ``ErrorCode`` are the records to
retry.  Errors of a whole call are classified by :mod:`shipper.aws.errors`.
"""

from __future__ import annotations

from typing import Any

import orjson

from shipper.aws.rawbody import unexpected


def failed_positions(answer: dict[str, Any], sent: int) -> list[int]:
    """Positions of the records the call refused; raises UnexpectedAnswer for an answer not the service's."""
    responses = answer.get("RequestResponses")
    count = answer.get("FailedPutCount")
    if type(count) is not int or not isinstance(responses, list) or len(responses) != sent:
        raise unexpected("PutRecordBatch", f"not FailedPutCount and {sent} RequestResponses", orjson.dumps(answer))
    if not count:
        return []
    return [i for i, item in enumerate(responses) if isinstance(item, dict) and item.get("ErrorCode")]


def first_error(answer: dict[str, Any]) -> str:
    """``Code: message`` of the first refused record, for the log line."""
    for item in answer.get("RequestResponses", []):
        if item.get("ErrorCode"):
            return f"{item['ErrorCode']}: {item.get('ErrorMessage', '')}"
    return ""
