"""Turn a chunk of events into valid PutLogEvents requests for one log stream.

The API's limits (PutLogEvents, https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html),
all enforced here because moto does not and the real service rejects the
whole request otherwise:

- at most 10,000 events and 1,048,576 bytes per request, counting each event
  as its UTF-8 message length + 26;
- events in chronological order, and one request never spans 24 hours;
- an event may not be larger than 1 MiB (1,048,576 bytes including the 26,
  the limit since 2025): longer messages are cut by
  :mod:`shipper.outputs.cloudwatch_logs.truncation` (a JSON message stays valid
  JSON) and counted;
- events older than 14 days (or than the group's retention) or more than 2
  hours in the future are rejected by the service: they are left out and
  counted instead of failing the request;
- empty messages are skipped (the API refuses them), like Fluent Bit does.

Every event left out is named with a reason code (:data:`REFUSALS`), so a
dry-run can show which records the service would refuse and why.

Everything is done per chunk with list operations; the request body is encoded
once per batch with orjson (docs/architecture.md, "Performance rules").
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from itertools import accumulate

import orjson

from shipper import jsonfmt
from shipper.events import Event
from shipper.outputs.cloudwatch_logs.truncation import JSON_AS_TEXT, truncate_message

#: PutLogEvents limits, from the CloudWatch Logs API reference
#: (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html).
MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
#: bytes the service adds to each event's UTF-8 message when counting sizes.
EVENT_OVERHEAD = 26
#: an event, overhead included, is at most 1,048,576 bytes; this is what is left for the message.
MAX_EVENT_BYTES = 1_048_576 - EVENT_OVERHEAD
MAX_SPAN_MS = 24 * 3600 * 1000
MAX_AGE_MS = 14 * 24 * 3600 * 1000
MAX_FUTURE_MS = 2 * 3600 * 1000
DAY_MS = 24 * 3600 * 1000

#: why an event is left out of the requests, by reason code.
REFUSALS = {
    "missing_log_key": "the record has no log_key value",
    "empty": "the message is empty (CloudWatch refuses empty events)",
    "too_old": "older than 14 days (CloudWatch refuses it)",
    "expired": "older than the log group's retention (CloudWatch refuses it)",
    "too_new": "more than 2 hours in the future (CloudWatch refuses it)",
}


def encode_messages(events: list[Event], log_key: str | None) -> list[str | None]:
    """The message of each event; None for a record that has no ``log_key``.

    Without ``log_key`` the message is the record as Fluent Bit's compact JSON
    (an empty record gives ``""``, which is skipped).  With it, a string value
    is sent raw (UTF-8 kept), and any other value as its JSON text (Fluent Bit
    5.1.1 writes broken JSON for those, golden case 42).
    """
    if log_key is None:
        dumps = jsonfmt.dumps_str
        return [dumps(record) if record else "" for _, record in events]
    messages: list[str | None] = []
    append = messages.append
    for _, record in events:
        value = record.get(log_key)
        if value is None:
            append("" if log_key in record else None)
        elif type(value) is str:
            append(value)
        else:
            append(jsonfmt.dumps_str(value))
    return messages


@dataclass(slots=True)
class PutLogEventsRequest:
    """One PutLogEvents request: sorted timestamps (ms) and messages, and which input events they are."""

    timestamps: list[int] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    indexes: list[int] = field(default_factory=list)
    nbytes: int = 0

    def body(self, group: str, stream: str) -> bytes:
        """The PutLogEvents JSON body (no sequence token: the API ignores them)."""
        events = [{"timestamp": t, "message": m} for t, m in zip(self.timestamps, self.messages, strict=True)]
        return orjson.dumps({"logGroupName": group, "logStreamName": stream, "logEvents": events})


@dataclass(slots=True)
class StreamRequests:
    """The requests for one stream, and the events left out (index, reason code) or truncated."""

    batches: list[PutLogEventsRequest] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)
    truncated: int = 0
    #: of the truncated, the JSON messages that could not be kept valid JSON (cut as plain text).
    truncated_json_broken: int = 0


def plan(events: list[Event], messages: list[str | None], now_ms: int, retention_days: int = 0) -> StreamRequests:
    """Split events (with their encoded messages) into valid requests; see the module doc.

    ``now_ms`` is the clock the windows are measured from (the real time, or
    dry-run's ``--now``); ``retention_days`` (0 = never expire) narrows the
    oldest acceptable time to the group's retention when it is shorter.
    """
    result = StreamRequests()
    stamps = [ts // 1_000_000 for ts, _ in events]
    if not stamps:
        return result
    expired = now_ms - retention_days * DAY_MS if 0 < retention_days < 14 else None
    oldest = now_ms - MAX_AGE_MS if expired is None else expired
    newest = now_ms + MAX_FUTURE_MS
    if all(messages) and min(stamps) >= oldest and max(stamps) <= newest and all(map(str.isascii, messages)):  # type: ignore[arg-type]
        # The common case, checked with C-level passes: nothing to leave out.
        sizes = [len(m) + EVENT_OVERHEAD for m in messages]  # type: ignore[arg-type]
        keep = list(range(len(messages)))
        if max(sizes) > MAX_EVENT_BYTES + EVENT_OVERHEAD:
            _truncate(messages, sizes, keep, result)
    else:
        sizes, keep = _screen(stamps, messages, oldest, newest, result, "too_old" if expired is None else "expired")
    keep.sort(key=stamps.__getitem__)
    _split(keep, stamps, sizes, messages, result)  # type: ignore[arg-type]
    return result


def _screen(
    stamps: list[int], messages: list[str | None], oldest: int, newest: int, result: StreamRequests, old_reason: str
) -> tuple[list[int], list[int]]:
    """The slow path: leave out missing/empty/out-of-window events, size the rest."""
    sizes = [0] * len(messages)
    keep: list[int] = []
    refuse = result.refused.append
    for index, message in enumerate(messages):
        if not message:
            refuse((index, "missing_log_key" if message is None else "empty"))
            continue
        ts = stamps[index]
        if ts < oldest:
            refuse((index, old_reason))
        elif ts > newest:
            refuse((index, "too_new"))
        else:
            sizes[index] = (len(message) if message.isascii() else len(message.encode("utf-8"))) + EVENT_OVERHEAD
            keep.append(index)
    _truncate(messages, sizes, keep, result)
    return sizes, keep


def _truncate(messages: list[str | None], sizes: list[int], keep: list[int], result: StreamRequests) -> None:
    for index in keep:
        if sizes[index] > MAX_EVENT_BYTES + EVENT_OVERHEAD:
            cut, how = truncate_message(messages[index], MAX_EVENT_BYTES)  # type: ignore[arg-type]
            messages[index] = cut
            sizes[index] = len(cut.encode("utf-8")) + EVENT_OVERHEAD
            result.truncated += 1
            result.truncated_json_broken += how == JSON_AS_TEXT


def _split(order: list[int], stamps: list[int], sizes: list[int], messages: list[str], result: StreamRequests) -> None:
    """Cut the time-sorted events into requests by count, bytes and 24 h span (bisect per request)."""
    times = [stamps[i] for i in order]
    total = list(accumulate([sizes[i] for i in order]))
    start, count = 0, len(order)
    while start < count:
        base = total[start - 1] if start else 0
        end = min(
            start + MAX_BATCH_EVENTS,
            bisect_right(total, base + MAX_BATCH_BYTES, start, count),
            bisect_left(times, times[start] + MAX_SPAN_MS, start, count),
        )
        indexes = order[start:end]
        result.batches.append(PutLogEventsRequest(times[start:end], [messages[i] for i in indexes], indexes, total[end - 1] - base))
        start = end
