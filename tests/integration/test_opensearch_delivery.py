"""The opensearch output against the fake ``_bulk`` server: delivery, retries, rejections, splitting."""

from __future__ import annotations

import asyncio
import gzip
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest

from shipper.events import Event
from shipper.outputs.opensearch import OpenSearchOutput
from shipper.outputs.result import FlushResult
from tests.factory import make_context, make_plugin
from tests.servers.opensearch import FakeOpenSearch

# 2024-03-05T23:59:59Z and the next day.
DAY1 = 1_709_683_199_000_000_000
DAY2 = 1_709_683_201_000_000_000


@pytest.fixture
async def server() -> AsyncIterator[FakeOpenSearch]:
    async with FakeOpenSearch() as fake:
        yield fake


async def started(server: FakeOpenSearch, **options: Any) -> OpenSearchOutput:
    props = {"host": "127.0.0.1", "port": str(server.port), **{k: str(v) for k, v in options.items()}}
    output = make_plugin("output", "opensearch", props, context=make_context())
    assert isinstance(output, OpenSearchOutput)
    await output.start()
    return output


def events(n: int, ts: int = DAY1, **extra: Any) -> list[Event]:
    return [(ts + i, {"msg": f"line {i}", "n": i, **extra}) for i in range(n)]


async def test_logstash_indices_follow_the_record_date(server: FakeOpenSearch) -> None:
    output = await started(server, logstash_format="on", logstash_prefix="app")
    try:
        await output.flush("t", events(2, DAY1) + events(3, DAY2))
    finally:
        await output.stop()
    assert {k: len(v) for k, v in server.documents.items()} == {"app-2024.03.05": 2, "app-2024.03.06": 3}
    assert server.requests[0].headers["Content-Type"] == "application/x-ndjson"
    assert server.requests[0].path == "/_bulk"


async def test_partial_failures_are_retried_alone_without_duplicates(server: FakeOpenSearch) -> None:
    output = await started(server)
    batch = events(10)
    server.fail_items(429, times=3, match=lambda _action, source: source is not None and source["n"] % 3 == 0)
    try:
        retry = (await output.flush("t", batch)).retry
        assert [r["n"] for _, r in retry] == [0, 3, 6]
        await output.flush("t", retry)
    finally:
        await output.stop()
    assert len(server.requests[1].body.splitlines()) == 2 * 3, "the retry carries only the refused items"
    assert sorted(doc["n"] for doc in server.all_documents()) == list(range(10))


async def test_generate_id_makes_a_repeated_flush_idempotent(server: FakeOpenSearch) -> None:
    """A response lost after the cluster stored the documents: the re-sent ones conflict (409) and count as delivered."""
    output = await started(server, generate_id="on")
    batch = events(5)
    try:
        await output.flush("t", batch)
        again = await output.flush("t", batch)
    finally:
        await output.stop()
    assert len(server.all_documents()) == 5
    second = orjson.loads(server.requests[1].body.splitlines()[0])
    assert "_id" in second["create"]
    assert again == FlushResult.ok()
    assert output.metrics.value("shipper_opensearch_conflicts_total", name=output.instance_name) == 5


async def test_id_key_makes_a_repeated_flush_idempotent(server: FakeOpenSearch) -> None:
    output = await started(server, id_key="$meta['uid']")
    batch = [(DAY1, {"msg": "a", "meta": {"uid": "u-1"}}), (DAY1, {"msg": "b", "meta": {"uid": "u-2"}})]
    try:
        await output.flush("t", batch)
        await output.flush("t", batch)
    finally:
        await output.stop()
    assert set(server.documents["fluent-bit"]) == {"u-1", "u-2"}


async def test_without_ids_a_repeated_flush_duplicates(server: FakeOpenSearch) -> None:
    """The contrast that makes the two tests above meaningful."""
    output = await started(server)
    try:
        await output.flush("t", events(3))
        await output.flush("t", events(3))
    finally:
        await output.stop()
    assert len(server.all_documents()) == 6


async def test_mapping_errors_are_dropped_counted_and_logged_once(
    server: FakeOpenSearch, caplog: pytest.LogCaptureFixture
) -> None:
    output = await started(server)
    good = [(DAY1, {"field": 1}), (DAY1, {"field": 2})]
    bad = [(DAY1, {"field": {"nested": True}}) for _ in range(3)]
    try:
        with caplog.at_level(logging.ERROR):
            first = await output.flush("t", good + bad)
            second = await output.flush("t", bad)
    finally:
        await output.stop()
    assert len(server.requests) == 2, "rejected documents are never sent again by the output"
    assert len(server.all_documents()) == 2
    assert first.merge(second).dropped == {"mapper_parsing_exception: documents rejected by index 'fluent-bit'": 6}
    reports = [r for r in caplog.records if "mapper_parsing_exception" in r.getMessage()]
    assert len(reports) == 1 and "fluent-bit" in reports[0].getMessage()


async def test_mixed_item_failures_retry_only_the_throttled(server: FakeOpenSearch) -> None:
    output = await started(server)
    server.fail_items(400, times=1, error_type="mapper_parsing_exception", match=lambda a, s: s["n"] == 1)
    server.fail_items(503, times=1, match=lambda a, s: s["n"] == 2)
    try:
        result = await output.flush("t", events(4))
    finally:
        await output.stop()
    assert [r["n"] for _, r in result.retry] == [2]
    assert result.dropped_count == 1


async def test_whole_request_500_retries_everything_then_succeeds(server: FakeOpenSearch) -> None:
    output = await started(server)
    server.fail_requests(500)
    batch = events(4)
    try:
        result = await output.flush("t", batch)
        assert result.retry == batch and "HTTP 500" in result.retry_reason
        assert await output.flush("t", result.retry) == FlushResult.ok()
    finally:
        await output.stop()
    assert len(server.all_documents()) == 4


@pytest.mark.parametrize(
    "body,content_type",
    [(b"<html><body>Please log in</body></html>", "text/html"), (b'{"took":1,"errors":false}', "application/json")],
)
async def test_a_200_that_is_not_a_bulk_answer_is_retried_not_counted_delivered(
    server: FakeOpenSearch, body: bytes, content_type: str
) -> None:
    """Issue 18.5: a proxy answering 200 with its own page must not count as delivered."""
    output = await started(server)
    server.reply_raw(body, content_type)
    batch = events(3)
    try:
        result = await output.flush("t", batch)
        assert result.retry == batch and "unreadable bulk response" in result.retry_reason
        assert await output.flush("t", result.retry) == FlushResult.ok()
    finally:
        await output.stop()
    assert sorted(doc["n"] for doc in server.all_documents()) == [0, 1, 2]


async def test_requests_are_split_at_max_request_size(server: FakeOpenSearch) -> None:
    output = await started(server, max_request_size="2k")
    batch = [(DAY1, {"msg": "x" * 300, "n": i}) for i in range(20)]
    try:
        await output.flush("t", batch)
        planned = output.dry_run("t", batch).requests
    finally:
        await output.stop()
    assert len(server.requests) == planned > 1
    assert all(len(r.body) <= 2000 for r in server.requests)
    assert sorted(d["n"] for d in server.all_documents()) == list(range(20))


async def test_413_halves_requests_and_drops_a_lone_oversized_document() -> None:
    async with FakeOpenSearch(max_content_length=3000) as server:
        output = await started(server)
        batch = [(DAY1, {"msg": "x" * 300, "n": i}) for i in range(12)] + [(DAY1, {"msg": "y" * 5000, "n": 99})]
        try:
            result = await output.flush("t", batch)
        finally:
            await output.stop()
    assert sorted(d["n"] for d in server.all_documents()) == list(range(12))
    assert result.dropped_count == 1 and not result.retry


async def test_gzip_bodies(server: FakeOpenSearch) -> None:
    output = await started(server, compress="gzip")
    try:
        await output.flush("t", events(50))
    finally:
        await output.stop()
    request = server.requests[0]
    assert request.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(request.raw_body) == request.body
    assert len(request.raw_body) < len(request.body)
    assert len(server.all_documents()) == 50


async def test_basic_auth() -> None:
    async with FakeOpenSearch(basic_auth=("admin", "s3cret")) as server:
        good = await started(server, http_user="admin", http_passwd="s3cret")
        bad = await started(server, http_user="admin", http_passwd="wrong")
        try:
            await good.flush("t", events(1))
            assert "HTTP 401" in (await bad.flush("t", events(1))).retry_reason
        finally:
            await good.stop()
            await bad.stop()
    assert len(server.all_documents()) == 1


async def test_pipeline_and_path_prefix(server: FakeOpenSearch) -> None:
    output = await started(server, path="/search", pipeline="enrich")
    try:
        await output.flush("t", events(1))
    finally:
        await output.stop()
    assert server.requests[0].path == "/search/_bulk/"
    assert server.requests[0].query == {"pipeline": "enrich"}


async def test_type_name_rejected_by_opensearch_2_unless_suppressed() -> None:
    async with FakeOpenSearch(reject_type=True) as server:
        legacy = await started(server)
        modern = await started(server, suppress_type_name="on")
        try:
            rejected = await legacy.flush("t", events(2))
            await modern.flush("t", events(2))
        finally:
            await legacy.stop()
            await modern.stop()
    assert rejected.dropped_count == 2
    assert len(server.all_documents()) == 2


async def test_unreachable_server_retries_everything() -> None:
    async with FakeOpenSearch() as server:
        port = server.port
    output = make_plugin("output", "opensearch", {"host": "127.0.0.1", "port": str(port)})
    assert isinstance(output, OpenSearchOutput)
    await output.start()
    batch = events(3)
    try:
        result = await output.flush("t", batch)
    finally:
        await output.stop()
    assert result.retry == batch


async def test_update_and_upsert_operations(server: FakeOpenSearch) -> None:
    upsert = await started(server, write_operation="upsert", id_key="id", suppress_type_name="on")
    update = await started(server, write_operation="update", id_key="id", suppress_type_name="on")
    try:
        await upsert.flush("t", [(DAY1, {"id": "a", "v": 1})])
        result = await update.flush("t", [(DAY1, {"id": "a", "extra": 2}), (DAY1, {"id": "missing", "v": 3})])
    finally:
        await upsert.stop()
        await update.stop()
    assert server.documents["fluent-bit"]["a"]["v"] == 1
    assert server.documents["fluent-bit"]["a"]["extra"] == 2
    assert "missing" not in server.documents["fluent-bit"]
    assert result.dropped_count == 1


async def test_dry_run_lists_index_operation_and_payload() -> None:
    output = make_plugin("output", "es", {"logstash_format": "on", "generate_id": "on", "suppress_type_name": "on"})
    batch = output.dry_run("t", [(DAY1, {"msg": "héllo"}), (DAY2, {"msg": "b"})])
    assert batch.requests == 1
    first = batch.items[0]
    assert first.destination["index"] == "logstash-2024.03.05"
    assert first.destination["operation"] == "create"
    assert len(first.destination["id"]) == 36
    assert first.payload == '{"@timestamp":"2024-03-05T23:59:59.000Z","msg":"h\\u00e9llo"}'
    assert batch.items[1].destination["index"] == "logstash-2024.03.06"


async def test_arrays_of_objects_are_stored(server: FakeOpenSearch) -> None:
    output = await started(server, replace_dots="on")
    try:
        await output.flush("t", [(DAY1, {"arr": [{"x.y": 1}, {"x.y": 2}], "a.b": "c"})])
    finally:
        await output.stop()
    assert server.all_documents()[0]["arr"] == [{"x_y": 1}, {"x_y": 2}]


async def test_a_slow_response_times_out_and_is_retried() -> None:
    async with FakeOpenSearch(delay=1.0) as server:
        output = await started(server, **{"net.read_timeout": "0.2"})
        batch = events(2)
        try:
            result = await output.flush("t", batch)
        finally:
            await output.stop()
    assert result.retry == batch and "Timeout" in result.retry_reason


async def test_concurrent_flushes_share_the_pool(server: FakeOpenSearch) -> None:
    output = await started(server, workers=3, generate_id="on")
    chunks = [[(DAY1 + c * 1000 + i, {"chunk": c, "i": i}) for i in range(20)] for c in range(6)]
    try:
        await asyncio.gather(*(output.flush("t", chunk) for chunk in chunks))
    finally:
        await output.stop()
    assert len(server.all_documents()) == 120
    assert len(server.requests) == 6


async def test_an_outage_during_a_413_split_retries_each_record_once() -> None:
    async with FakeOpenSearch(max_content_length=3000) as server:
        output = await started(server)
        batch = [(DAY1, {"msg": "x" * 300, "n": i}) for i in range(12)]
        server.fail_items(429, times=1)
        assert output.transport is not None
        post = output.transport.post
        calls = 0

        async def post_then_vanish(body: bytes) -> tuple[int, bytes]:
            nonlocal calls
            calls += 1
            if calls > 2:  # 413, first half (one item refused), then the second half fails
                raise aiohttp.ClientConnectionError("cluster went away")
            return await post(body)

        output.transport.post = post_then_vanish  # type: ignore[method-assign]
        try:
            result = await output.flush("t", batch)
        finally:
            await output.stop()
    retried = [r["n"] for _, r in result.retry]
    assert len(retried) == len(set(retried)), "no record is queued twice"
    assert set(retried) | {d["n"] for d in server.all_documents()} == set(range(12))
