"""Classification of ``_bulk`` responses per item."""

from __future__ import annotations

import orjson
import pytest

from shipper.outputs.opensearch.result import BadResponse, parse_bulk_response


def response(*statuses: int, errors: bool = True) -> bytes:
    items = []
    for status in statuses:
        result: dict = {"_index": "logs", "_id": "x", "status": status}
        if status >= 300:
            result["error"] = {"type": "mapper_parsing_exception", "reason": "failed to parse field [n]",
                               "caused_by": {"type": "number_format_exception", "reason": "For input string: \"a\""}}
        items.append({"create": result})
    return orjson.dumps({"took": 3, "errors": errors, "items": items})


def test_all_good_short_circuits() -> None:
    outcome = parse_bulk_response(response(201, 201, errors=False), 2)
    assert outcome.delivered == 2 and not outcome.retry and not outcome.rejected


def test_each_status_class() -> None:
    outcome = parse_bulk_response(response(201, 409, 429, 503, 400, 404), 6)
    assert outcome.delivered == 1
    assert outcome.conflicts == 1
    assert outcome.retry == [2, 3]
    assert outcome.rejected == [4, 5]
    assert outcome.reasons == {("logs", "mapper_parsing_exception"): 2}
    assert "number_format_exception" in outcome.examples[("logs", "mapper_parsing_exception")]


@pytest.mark.parametrize(
    "payload",
    [b"<html>bad gateway</html>", b'{"took":1}', response(201), b'{"errors":true,"items":[{"create":{}}]}'],
)
def test_unreadable_responses(payload: bytes) -> None:
    with pytest.raises(BadResponse):
        parse_bulk_response(payload, 2 if payload == response(201) else 1)
