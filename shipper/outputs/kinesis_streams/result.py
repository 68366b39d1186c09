"""Classify a PutRecords answer: which records the service refused, and why.

A PutRecords call that succeeds may still refuse single records
(``FailedRecordCount`` > 0, an ``ErrorCode`` on each refused entry, in
request order).  Only those go back to the engine for retry.  Errors of the
whole call are classified by :mod:`shipper.aws.errors` instead.
"""

from __future__ import annotations

from typing import Any


def failed_positions(response: dict[str, Any]) -> list[int]:
    """Positions of the records the call refused."""
    if not response.get("FailedRecordCount"):
        return []
    return [i for i, item in enumerate(response.get("Records", [])) if item.get("ErrorCode")]


def first_error(response: dict[str, Any]) -> str:
    """``Code: message`` of the first refused record, for the log line."""
    for item in response.get("Records", []):
        if item.get("ErrorCode"):
            return f"{item['ErrorCode']}: {item.get('ErrorMessage', '')}"
    return ""
