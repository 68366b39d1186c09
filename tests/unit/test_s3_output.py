"""The s3 output against the in-memory S3: buffering, parts, completion, restarts and failures."""

from __future__ import annotations

import asyncio
import gzip
import random
from pathlib import Path

from shipper.outputs.s3 import S3
from shipper.outputs.s3.limits import MIN_PART_BYTES
from shipper.outputs.s3.request import ObjectHeaders
from shipper.outputs.s3.transport import FakeS3, client_error
from shipper.packed import EventBatch, Packed
from tests.factory import make_context, make_plugin

T0 = 1_700_000_000 * 1_000_000_000
LINE = "x" * 1000


def events(start: int, count: int) -> list[tuple[int, dict[str, object]]]:
    return [(T0 + i * 1_000_000, {"n": i, "log": LINE}) for i in range(start, start + count)]


async def output(tmp_path: Path, s3: FakeS3, grace: str = "5", **options: str) -> S3:
    props = {"bucket": "logs", "store_dir": str(tmp_path / "store"), "json_date_key": "off", **options}
    out = make_plugin("output", "s3", props, context=make_context(grace=grace, **{"scheduler.base": "0.01"}))
    assert isinstance(out, S3)
    out.transport = s3
    await out.prepare()
    return out


def numbers(body: bytes) -> list[int]:
    import orjson

    return [orjson.loads(line)["n"] for line in body.splitlines()]


async def test_records_go_out_as_a_multipart_upload_of_5_mib_parts(tmp_path: Path) -> None:
    s3 = FakeS3()
    out = await output(tmp_path, s3, s3_key_format="/$TAG/%Y/$UUID")
    for start in range(0, 12_000, 1000):
        await out.flush("app.web", events(start, 1000))
    assert out.uploader is not None
    await out.uploader.upload_pass()  # sealed segments go out as parts while the object grows
    assert s3.calls.count("UploadPart") == 2 and not s3.objects
    await out.stop()
    [(key, stored)] = s3.objects.items()
    assert key.startswith("app.web/2023/") and stored.multipart
    assert numbers(stored.body) == list(range(12_000))
    assert not s3.uploads and not out.store.objects


async def test_small_objects_use_put_object_and_gzip_is_one_valid_stream(tmp_path: Path) -> None:
    s3 = FakeS3()
    out = await output(tmp_path, s3, compression="gzip", s3_key_format="/a/$TAG[1]/%H%M%S")
    await out.flush("kube.app", events(0, 10))
    await out.flush("kube.app", events(10, 10))
    await out.stop()
    [(key, stored)] = s3.objects.items()
    assert key == "a/app/221320"
    assert not stored.multipart and stored.headers.content_encoding == "gzip"
    assert numbers(gzip.decompress(stored.body)) == list(range(20))


async def test_upload_timeout_completes_an_object_and_the_next_flush_starts_another(tmp_path: Path) -> None:
    s3 = FakeS3()
    out = await output(tmp_path, s3, upload_timeout="1s", s3_key_format="/$TAG/$INDEX")
    await out.flush("t", events(0, 5))
    [state] = out.store.objects.values()
    state.created -= 2  # started two seconds ago
    assert out.uploader is not None
    await out.uploader.upload_pass()
    await out.flush("t", events(5, 5))
    await out.stop()
    assert sorted(s3.objects) == ["t/0", "t/1"]


async def test_index_survives_a_restart(tmp_path: Path) -> None:
    s3 = FakeS3()
    for _ in range(2):
        out = await output(tmp_path, s3, s3_key_format="/$TAG/$INDEX", use_put_object="on", total_file_size="1M")
        await out.flush("t", events(0, 1))
        await out.stop()
    assert sorted(s3.objects) == ["t/0", "t/1"]


async def test_buffered_records_of_a_killed_run_are_uploaded_on_start(tmp_path: Path) -> None:
    s3 = FakeS3()
    first = await output(tmp_path, s3)
    await first.flush("t", events(0, 50))
    [state] = first.store.objects.values()
    segment = first.store.segment_path(state, state.segment)
    segment.write_bytes(segment.read_bytes() + b'{"n": 999, "half a line')  # an append that never returned
    # kill -9: no stop()
    second = await output(tmp_path, s3)
    await second.stop()
    [stored] = s3.objects.values()
    assert numbers(stored.body) == list(range(50))


async def test_an_interrupted_multipart_upload_is_resumed_and_strays_are_aborted(tmp_path: Path) -> None:
    s3 = FakeS3()
    first = await output(tmp_path, s3, s3_key_format="/$TAG/$UUID")
    for start in range(0, 7000, 1000):
        await first.flush("t", events(start, 1000))
    assert first.uploader is not None
    await first.uploader.upload_pass()
    [state] = first.store.objects.values()
    assert len(state.etags) == 1
    stray = await s3.create_multipart_upload(state.key, first.headers)  # created just before the crash
    # kill -9 here; the next run resumes the recorded upload
    second = await output(tmp_path, s3, s3_key_format="/$TAG/$UUID")
    assert second.uploader is not None
    await second.uploader.abort_strays()
    await second.stop()
    assert stray not in s3.uploads and not s3.uploads
    [stored] = s3.objects.values()
    assert numbers(stored.body) == list(range(7000))
    assert s3.calls.count("CreateMultipartUpload") == 2  # the first run's upload and the stray


async def test_failures_are_retried_then_the_object_is_given_up_and_counted(tmp_path: Path) -> None:
    s3 = FakeS3()
    out = await output(tmp_path, s3, retry_limit="1")
    s3.fail("PutObject", client_error("AccessDenied", 403, "PutObject"), times=5)
    await out.flush("t", events(0, 3))
    assert out.uploader is not None
    assert await out.uploader.drain(lambda: 5.0)  # gives up before any deadline
    assert not out.store.objects and not s3.objects
    assert out.metrics.value("fluentbit_output_dropped_records_total", name="s3.0") == 3
    assert s3.calls.count("PutObject") == 2  # the first attempt and one retry


async def test_a_transient_failure_is_retried(tmp_path: Path) -> None:
    s3 = FakeS3()
    out = await output(tmp_path, s3)
    s3.fail("PutObject", client_error("SlowDown", 503, "PutObject"))
    await out.flush("t", events(0, 3))
    await out.stop()
    [stored] = s3.objects.values()
    assert numbers(stored.body) == [0, 1, 2]


async def test_a_completion_that_succeeded_before_a_crash_is_not_lost(tmp_path: Path) -> None:
    s3 = FakeS3()
    first = await output(tmp_path, s3, s3_key_format="/$TAG/$UUID")
    for start in range(0, 6000, 1000):
        await first.flush("t", events(start, 1000))
    [state] = first.store.objects.values()
    state.completing = True
    first.store.save(state)
    assert first.uploader is not None
    await first.uploader.upload_pass()
    assert len(s3.objects) == 1
    (first.store.root / "objects" / state.id).mkdir(parents=True)
    first.store.save(state)  # as if the crash came before the state was removed
    second = await output(tmp_path, s3, s3_key_format="/$TAG/$UUID")
    await second.stop()
    assert len(s3.objects) == 1 and not second.store.objects
    assert second.metrics.value("fluentbit_output_dropped_records_total", name="s3.0") == 0


async def test_store_dir_limit_refuses_new_records_until_uploads_catch_up(tmp_path: Path) -> None:
    s3 = FakeS3()
    out = await output(tmp_path, s3, store_dir_limit_size="10k")
    await out.flush("t", events(0, 20))
    result = await out.flush("t", events(20, 1))
    assert len(result.retry) == 1 and "store_dir_limit_size" in result.retry_reason


async def test_log_key_writes_the_value_and_counts_records_without_it(tmp_path: Path) -> None:
    s3 = FakeS3()
    out = await output(tmp_path, s3, log_key="msg")
    result = await out.flush("t", [(T0, {"msg": "plain text"}), (T0, {"other": 1}), (T0, {"msg": {"a": 1}})])
    await out.stop()
    [stored] = s3.objects.values()
    assert stored.body == b'plain text\n{"a":1}\n'
    assert result.dropped == {"missing_log_key: records have no 'msg' key; not written": 1}


def test_dry_run_names_bucket_key_and_each_record(tmp_path: Path) -> None:
    out = make_plugin("output", "s3", {"bucket": "logs", "store_dir": str(tmp_path), "s3_key_format": "/$TAG/%Y/$INDEX"})
    batch = out.dry_run("app", [(T0, {"a": 1}), (T0, {"a": 2})])
    assert [item.destination for item in batch.items] == [{"bucket": "logs", "key": "app/2023/0"}] * 2
    assert batch.items[0].payload == '{"date":"2023-11-14T22:13:20.000000Z","a":1}'
    assert batch.requests == 1
    assert MIN_PART_BYTES == 5 * 1024 * 1024


def test_dry_run_marks_records_without_log_key_as_refused(tmp_path: Path) -> None:
    out = make_plugin("output", "s3", {"bucket": "logs", "store_dir": str(tmp_path), "log_key": "msg"})
    batch = out.dry_run("app", [(T0, {"msg": "kept"}), (T0, {"other": 1})])
    assert [(item.payload, item.refused) for item in batch.items] == [("kept", None), ('{"other":1}', "missing_log_key")]
    assert "msg" in batch.reasons["missing_log_key"]


async def test_two_objects_of_a_tag_in_one_second_do_not_share_a_key(tmp_path: Path) -> None:
    s3 = FakeS3()
    out = await output(tmp_path, s3, use_put_object="on", total_file_size="1M", static_file_path="on")
    await out.flush("t", events(0, 990))  # over total_file_size: completed at once
    await out.flush("t", events(990, 5))  # its first record is in the same second
    await out.stop()
    assert len(s3.objects) == 2
    assert sorted(n for stored in s3.objects.values() for n in numbers(stored.body)) == list(range(995))


async def test_an_unwritable_store_dir_asks_the_engine_to_retry(tmp_path: Path) -> None:
    s3 = FakeS3()
    (tmp_path / "a-file").write_text("")
    out = await output(tmp_path, s3, store_dir=str(tmp_path / "a-file" / "store"))  # no directory can be made there
    result = await out.flush("t", events(0, 2))
    assert len(result.retry) == 2 and "cannot write to store_dir" in result.retry_reason


async def test_a_gzip_object_cut_into_parts_is_one_valid_stream(tmp_path: Path) -> None:
    s3 = FakeS3()
    out = await output(tmp_path, s3, compression="gzip", s3_key_format="/$TAG/$UUID")
    noise = random.Random(7)
    for start in range(0, 8000, 1000):  # random text: about 6 MiB even compressed
        batch = [(T0 + i, {"n": i, "log": noise.randbytes(600).hex()}) for i in range(start, start + 1000)]
        await out.flush("t", batch)
    await out.stop()
    [stored] = s3.objects.values()
    assert stored.multipart and stored.headers.content_encoding == "gzip"
    assert numbers(gzip.decompress(stored.body)) == list(range(8000))


async def test_a_packed_batch_is_stored_as_the_same_lines(tmp_path: Path) -> None:
    s3 = FakeS3()
    out = await output(tmp_path, s3, json_date_key="date", s3_key_format="/$TAG/$UUID")
    await out.flush_batch("a", EventBatch([Packed.encode(events(0, 3)), Packed.encode(events(3, 2))]))
    await out.flush("b", events(0, 5))
    await out.stop()
    bodies = {key.split("/")[0]: stored.body for key, stored in s3.objects.items()}
    assert bodies["a"] == bodies["b"] and numbers(bodies["a"]) == list(range(5))


class SlowS3(FakeS3):
    """An S3 whose PutObject takes longer than any shutdown may wait."""

    async def put_object(self, key: str, body: bytes, headers: ObjectHeaders) -> None:
        await asyncio.sleep(60)


class ShuttingDown:
    """The engine's side of shutdown: its deadline is already close (a second signal)."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline

    def shutdown_deadline(self) -> float:
        return self.deadline


async def test_stop_ends_at_the_engines_shutdown_deadline_and_keeps_the_rest(tmp_path: Path) -> None:
    out = await output(tmp_path, SlowS3(), grace="600")
    await out.flush("t", events(0, 3))
    out.context.runtime = ShuttingDown(asyncio.get_running_loop().time() + 0.2)  # type: ignore[assignment]
    await asyncio.wait_for(out.stop(), timeout=30)  # neither Grace (600 s) nor the 60 s the upload takes
    assert len(out.store.objects) == 1  # still in store_dir for the next start
    again = await output(tmp_path, FakeS3())
    assert len(again.store.objects) == 1 and again.store.pending_records(next(iter(again.store.objects.values()))) == 3

