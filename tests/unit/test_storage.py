"""Filesystem buffering: atomic chunk files, replay, corruption, per-output limits."""

from __future__ import annotations

import asyncio
import errno

import pytest

from shipper import atomicfile
from shipper.engine.core import Engine
from shipper.metrics import Metrics
from shipper.storage import ChunkStore, CorruptChunk
from tests.factory import make_plugin
from tests.unit.test_engine import ev, pipeline


def test_write_read_delete(tmp_path):
    store = ChunkStore(tmp_path, sync_full=True, checksum=True)
    chunk = store.write("out.0", "app", ev({"a": "é"}, {"b": [1, 2.5]}))
    assert chunk.path.exists() and not list(tmp_path.rglob("*.tmp"))
    assert store.read(chunk) == ev({"a": "é"}, {"b": [1, 2.5]})
    store.delete(chunk)
    assert not chunk.path.exists()


def test_recover_returns_chunks_oldest_first(tmp_path):
    first = ChunkStore(tmp_path)
    a = first.write("out.0", "t", ev({"n": 1}))
    b = first.write("out.0", "t", ev({"n": 2}))
    again = ChunkStore(tmp_path).recover()
    assert [c.path for c in again] == [a.path, b.path]
    assert again[0].tag == "t" and again[0].records == 1


@pytest.mark.parametrize("damage", [lambda d: d[: len(d) // 2], lambda d: b"garbage", lambda d: d[:-3] + b"9]]"])
def test_corrupt_files_are_moved_aside_never_fatal(tmp_path, damage):
    store = ChunkStore(tmp_path, checksum=True)
    chunk = store.write("out.0", "t", ev({"n": 1}, {"n": 2}))
    chunk.path.write_bytes(damage(chunk.path.read_bytes()))
    metrics = Metrics()
    assert ChunkStore(tmp_path, checksum=True, metrics=metrics).recover() == []
    assert list((tmp_path / "corrupt").iterdir())
    assert metrics.total("shipper_storage_corrupt_chunks_total") == 1


def test_read_of_a_vanished_chunk_raises_corrupt(tmp_path):
    store = ChunkStore(tmp_path)
    chunk = store.write("o", "t", ev({"n": 1}))
    chunk.path.unlink()
    with pytest.raises(CorruptChunk):
        store.read(chunk)


def test_total_limit_size_drops_the_oldest_chunks_of_that_output(tmp_path):
    metrics = Metrics()
    store = ChunkStore(tmp_path, metrics=metrics, limits={"o": 300})
    chunks = [store.write("o", "t", ev({"payload": "x" * 100})) for _ in range(5)]
    other = store.write("p", "t", ev({"payload": "x" * 100}))
    assert chunks[0].dropped and not chunks[0].path.exists()
    assert not chunks[-1].dropped and not other.dropped
    assert store.stats()["o"]["bytes"] <= 300
    assert metrics.value("shipper_storage_dropped_chunks_total", name="o") >= 2


async def test_filesystem_input_is_acked_on_persist_and_replayed_after_restart(tmp_path):
    service = {"storage.path": str(tmp_path / "buf"), "grace": "0.3"}
    src = make_plugin("input", "test_scripted", {"storage.type": "filesystem"})
    out = make_plugin("output", "test_scripted_out", {"match": "*"}, instance_name="sink")
    out.hang = True  # the destination is down for the whole first run
    src.chunks = [("t", ev({"n": 1}, {"n": 2}), "tok", 2)]
    await asyncio.wait_for(Engine(pipeline([src], [out], **service)).run(), 20)
    assert src.acked == ["tok"]  # offsets may move: the records are on disk
    assert len(list((tmp_path / "buf").rglob("*.chunk"))) == 1

    src2 = make_plugin("input", "test_scripted")
    out2 = make_plugin("output", "test_scripted_out", {"match": "*"}, instance_name="sink")
    p = pipeline([src2], [out2], **service)
    await asyncio.wait_for(Engine(p).run(), 20)
    assert out2.received == [("t", [{"n": 1}, {"n": 2}])]
    assert not list((tmp_path / "buf").rglob("*.chunk"))
    assert p.context.metrics.value("shipper_storage_replayed_chunks_total", name="sink") == 1


def test_a_chunk_being_delivered_is_never_dropped_by_the_limit(tmp_path):
    metrics = Metrics()
    store = ChunkStore(tmp_path, metrics=metrics, limits={"o": 300})
    first = store.write("o", "t", ev({"payload": "x" * 100}))
    store.read(first)  # a worker is sending it
    later = [store.write("o", "t", ev({"payload": "x" * 100})) for _ in range(4)]
    assert not first.dropped and first.path.exists()
    assert later[0].dropped
    dropped_chunks = metrics.value("shipper_storage_dropped_chunks_total", name="o")
    assert metrics.value("fluentbit_output_dropped_records_total", name="o") == dropped_chunks


def _disk_full(real_open):
    """``open`` for atomic writes on a full disk: the temporary file is created, its write fails half-way."""

    def open_on_full_disk(path, mode="r", *args, **kwargs):
        handle = real_open(path, mode, *args, **kwargs)
        if "w" not in mode:
            return handle
        with handle:
            handle.write(b"{\"tag\"")
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    return open_on_full_disk


def test_an_atomic_write_on_a_full_disk_leaves_no_temporary_file(tmp_path, monkeypatch):
    """Both users of write_atomic (filesystem storage, s3's store_dir) rely on this."""
    monkeypatch.setattr(atomicfile, "open", _disk_full(open), raising=False)
    with pytest.raises(OSError):
        atomicfile.write_atomic(tmp_path / "state.json", b"{}", sync=True)
    assert list(tmp_path.iterdir()) == []


async def test_a_full_disk_falls_back_to_memory_that_counts_against_mem_buf_limit(tmp_path, monkeypatch):
    """Issue 18 (3): the fallback's bytes were counted as 0, so the input never paused, and .tmp files stayed."""
    monkeypatch.setattr(atomicfile, "open", _disk_full(open), raising=False)
    src = make_plugin("input", "test_scripted", {"storage.type": "filesystem", "mem_buf_limit": "2k"})
    out = make_plugin("output", "test_scripted_out", {"match": "*"}, instance_name="sink")
    out.hang = True  # the destination is down as well
    src.chunks = [("t", ev({"payload": "x" * 600}), i, 600) for i in range(8)]
    p = pipeline([src], [out], **{"storage.path": str(tmp_path / "buf"), "grace": "0.3"})
    engine = Engine(p)
    asyncio.get_running_loop().call_later(1.0, engine.request_shutdown, "test")
    await asyncio.wait_for(engine.run(), 20)
    metrics = p.context.metrics
    assert metrics.value("shipper_storage_write_errors_total", name="sink") >= 1
    assert metrics.value("shipper_input_paused_total", name=src.instance_name) >= 1
    assert metrics.value("shipper_input_buffered_bytes", name=src.instance_name) >= 2048
    assert src.acked == []  # held in memory, never delivered: read again after a restart
    assert not list((tmp_path / "buf").rglob("*.tmp"))
