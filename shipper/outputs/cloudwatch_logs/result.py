"""Classify a PutLogEvents answer: is it the service's, and which events did it refuse.

A 2xx answer is the service's only when it is the documented JSON object
(API reference, PutLogEvents, Response Syntax:
https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html):
anything else (a proxy's page, some other JSON) is retried, never counted
as delivered.  Inside an accepted request the service may still refuse
events by time (``rejectedLogEventsInfo``); those are dropped, counted.
Errors of a whole call are classified by :mod:`shipper.aws.errors`.
"""

from __future__ import annotations

from typing import Any

import orjson

from shipper.aws.rawbody import unexpected

#: the members a PutLogEvents answer may have.
ANSWER_MEMBERS = frozenset({"nextSequenceToken", "rejectedLogEventsInfo", "rejectedEntityInfo"})
#: the members of ``rejectedLogEventsInfo``, each an index into the request's events.
REJECTED_MEMBERS = frozenset({"tooOldLogEventEndIndex", "expiredLogEventEndIndex", "tooNewLogEventStartIndex"})


def check_answer(answer: dict[str, Any]) -> dict[str, int]:
    """The ``rejectedLogEventsInfo`` of a PutLogEvents answer (empty when none); raises UnexpectedAnswer."""
    if not answer.keys() <= ANSWER_MEMBERS:
        raise unexpected("PutLogEvents", "the JSON has unknown members", orjson.dumps(answer))
    info = answer.get("rejectedLogEventsInfo") or {}
    if not isinstance(info, dict) or not info.keys() <= REJECTED_MEMBERS or not all(type(v) is int for v in info.values()):
        raise unexpected("PutLogEvents", "rejectedLogEventsInfo is malformed", orjson.dumps(answer))
    return info


def rejected_events(info: dict[str, int], count: int) -> int:
    """How many of the request's ``count`` events ``rejectedLogEventsInfo`` refused (too old, expired, too new)."""
    if not info:
        return 0
    old = max(info.get("tooOldLogEventEndIndex", -1), info.get("expiredLogEventEndIndex", -1)) + 1
    new = count - info["tooNewLogEventStartIndex"] if "tooNewLogEventStartIndex" in info else 0
    return min(count, old + new)
