"""Reading ``_bulk`` responses: which records were delivered, which to retry, which to drop.

A bulk request succeeds or fails per item.  The response lists one result per
action line, in request order, each with an HTTP-like ``status``:

- 2xx: stored.  409 (version conflict): with ``create`` the document already
  exists, i.e. an earlier attempt delivered it, so it counts as delivered
  (Fluent Bit does the same).
- 429 and 5xx: the cluster was busy; those items alone are retried.
- any other 4xx (mapping errors, invalid index names...): the document will
  never be accepted; it is dropped, counted and reported, never retried.

Fluent Bit retries the whole chunk when any item fails, which re-sends every
item that was already stored (duplicates without ``Generate_ID``) and retries
mapping errors until ``Retry_Limit``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson


class BadResponse(Exception):
    """The response is not a bulk response (truncated, HTML from a proxy, wrong item count)."""


@dataclass
class BulkOutcome:
    """Per-item result of one bulk request, as positions in the request."""

    delivered: int = 0
    conflicts: int = 0
    retry: list[int] = field(default_factory=list)
    rejected: list[int] = field(default_factory=list)
    #: (index, error type) -> count, for rejected items; reasons often name the
    #: document (id, value preview), so they are kept as one example per key.
    reasons: Counter[tuple[str, str]] = field(default_factory=Counter)
    examples: dict[tuple[str, str], str] = field(default_factory=dict)
    #: status -> count, for retried items.
    retry_statuses: Counter[int] = field(default_factory=Counter)


def is_retryable_status(status: int) -> bool:
    """429 (throttled) and 5xx are worth trying again; other 4xx are not."""
    return status == 429 or status >= 500


def _error_parts(error: Any) -> tuple[str, str]:
    if isinstance(error, dict):
        reason = str(error.get("reason", ""))
        caused = error.get("caused_by")
        if isinstance(caused, dict) and caused.get("reason"):
            reason = f"{reason}: {caused.get('type', '')} {caused['reason']}".strip()
        return str(error.get("type", "error")), reason
    return "error", str(error) if error is not None else ""


def parse_bulk_response(payload: bytes, expected_items: int) -> BulkOutcome:
    """Classify every item of a 200 response to a request of ``expected_items`` actions."""
    try:
        root = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise BadResponse(f"response is not JSON: {exc}") from None
    if not isinstance(root, dict) or "items" not in root:
        raise BadResponse("response has no 'items'")
    items = root["items"]
    if not isinstance(items, list) or len(items) != expected_items:
        got = len(items) if isinstance(items, list) else type(items).__name__
        raise BadResponse(f"response has {got} items for {expected_items} actions")
    outcome = BulkOutcome()
    if root.get("errors") is False:
        outcome.delivered = expected_items
        return outcome
    for position, item in enumerate(items):
        result = next(iter(item.values()), None) if isinstance(item, dict) and len(item) == 1 else None
        if not isinstance(result, dict) or not isinstance(result.get("status"), int):
            raise BadResponse(f"item {position} has no status: {str(item)[:200]}")
        status = result["status"]
        if status < 300:
            outcome.delivered += 1
        elif status == 409:
            outcome.conflicts += 1
        elif is_retryable_status(status):
            outcome.retry.append(position)
            outcome.retry_statuses[status] += 1
        else:
            outcome.rejected.append(position)
            error_type, reason = _error_parts(result.get("error"))
            key = (str(result.get("_index", "")), error_type)
            outcome.reasons[key] += 1
            outcome.examples.setdefault(key, reason)
    return outcome
