"""opensearch's flush against the in-memory fake transport: per-item results, 413 halving, answers."""

from __future__ import annotations

import aiohttp

from shipper.outputs.opensearch import OpenSearchOutput
from shipper.outputs.opensearch.transport import FakeBulk
from shipper.outputs.result import FlushResult
from tests.factory import make_plugin

DAY = 1_709_683_199_000_000_000


async def started(fake: FakeBulk, **options: str) -> OpenSearchOutput:
    out = make_plugin("output", "opensearch", {"suppress_type_name": "on", **options})
    assert isinstance(out, OpenSearchOutput)
    out.transport = fake
    await out.start()
    return out


def events(n: int) -> list[tuple[int, dict[str, int]]]:
    return [(DAY + i, {"n": i}) for i in range(n)]


async def test_every_document_is_sent_and_counted_delivered() -> None:
    fake = FakeBulk()
    out = await started(fake)
    assert await out.flush("t", events(3)) == FlushResult.ok()
    assert [doc["n"] for doc in fake.stored] == [0, 1, 2]


async def test_throttled_items_are_retried_alone_and_rejected_ones_dropped() -> None:
    fake = FakeBulk(item_status=lambda call, position: {1: 429, 2: 400}.get(position, 201) if call == 0 else 201)
    out = await started(fake)
    batch = events(4)
    result = await out.flush("t", batch)
    assert result.retry == [batch[1]] and "1x429" in result.retry_reason
    assert result.dropped == {"fake_exception: documents rejected by index 'fake'": 1}


async def test_a_413_halves_the_request() -> None:
    fake = FakeBulk()
    fake.answers.append((413, b"Request Entity Too Large"))
    out = await started(fake)
    assert await out.flush("t", events(4)) == FlushResult.ok()
    assert [body.count(b"\n") for body in fake.bodies] == [8, 4, 4]


async def test_a_200_that_is_not_a_bulk_answer_is_retried() -> None:
    fake = FakeBulk()
    fake.answers.append((200, b"<html>captive portal</html>"))
    out = await started(fake)
    batch = events(2)
    result = await out.flush("t", batch)
    assert result.retry == batch and "unreadable bulk response" in result.retry_reason


async def test_an_unreachable_cluster_retries_every_request_not_sent() -> None:
    fake = FakeBulk()
    fake.errors.append(aiohttp.ClientConnectionError("refused"))
    out = await started(fake, max_request_size="2k")
    batch = [(DAY + i, {"msg": "x" * 700, "n": i}) for i in range(6)]
    result = await out.flush("t", batch)
    assert result.retry == batch and "ClientConnectionError" in result.retry_reason
    assert len(fake.bodies) == 1
