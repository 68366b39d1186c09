"""Rotation while a real writer process appends at full speed: no line lost, none duplicated.

The writer (a separate Python process) numbers its lines; the test compares
the set of numbers tail delivered with what was written.  For copytruncate,
lines written between tail's last read and the truncation exist only in the
copy (no tailer can see them), so the writer truncates only after the test
says tail has caught up, and then keeps writing at full speed: tail must
notice the truncation even when the file has already regrown past its old
offset.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest

from tests.poll import wait_for_async
from tests.unit.test_tail_input import FakeRuntime, make_tail, stop_tail

WRITER = r'''
import os, shutil, sys, time
path, total, every, mode, state = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
pad = "p" * 80
out = open(path, "a")
for i in range(total):
    if i and i % every == 0:
        out.flush()
        rotation = i // every
        if mode == "rename":
            out.close()
            os.rename(path, f"{path}.{rotation}")
            out = open(path, "a")
            out.write(f"seq={i} {pad}\n")
            out.flush()
            # a file must live under its name long enough to be found (kubelet rotates
            # every 10 s at most); meanwhile the old file's rest is still being read.
            time.sleep(1.0)
            continue
        else:
            with open(state, "w") as handle:
                handle.write(str(i))
            deadline = time.monotonic() + 30
            while not os.path.exists(f"{state}.go{rotation}"):
                if time.monotonic() > deadline:
                    sys.exit(3)
                time.sleep(0.01)
            shutil.copy(path, f"{path}.{rotation}")
            os.truncate(path, 0)
    out.write(f"seq={i} {pad}\n")
    if i % 50 == 0:
        out.flush()
out.close()
'''

TOTAL = 40_000
EVERY = 10_000


async def tail_while_writing(tmp_path: Path, mode: str, inotify: str) -> list[int]:
    log = tmp_path / "app.log"
    log.touch()
    state = tmp_path / "state"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    plugin, pipe = make_tail({"path": str(log), "read_from_head": "on", "rotate_wait": "1",
                              "refresh_interval": "1", "inotify_watcher": inotify}, FakeRuntime())
    await plugin.start()
    task = asyncio.create_task(plugin.run())
    writer = await asyncio.create_subprocess_exec(sys.executable, str(script), str(log), str(TOTAL), str(EVERY), mode, str(state))
    seqs: list[int] = []
    try:
        deadline = time.monotonic() + 60
        released = 0
        while time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            seqs = [int(r["log"].split(" ", 1)[0][4:]) for r in pipe.records]
            if mode == "copytruncate" and state.exists() and state.read_text():
                written = int(state.read_text())
                if written // EVERY > released and len(seqs) >= written:
                    released = written // EVERY
                    (tmp_path / f"state.go{released}").touch()
            if writer.returncode is not None and len(seqs) >= TOTAL:
                break
        assert await asyncio.wait_for(writer.wait(), 30) == 0
    finally:
        if writer.returncode is None:
            writer.kill()
            await writer.wait()
        await stop_tail(plugin, task)
    return seqs


@pytest.mark.parametrize("inotify", ["true", "false"])
async def test_rename_rotation_under_load_loses_and_duplicates_nothing(tmp_path: Path, inotify: str) -> None:
    seqs = await tail_while_writing(tmp_path, "rename", inotify)
    assert len(seqs) == TOTAL
    assert sorted(seqs) == list(range(TOTAL))


async def test_copytruncate_under_load_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    seqs = await tail_while_writing(tmp_path, "copytruncate", "true")
    assert len(seqs) == TOTAL
    assert sorted(seqs) == list(range(TOTAL))


async def test_sparse_regrow_after_truncation_skips_leading_nuls(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("one\ntwo\n")
    plugin, pipe = make_tail({"path": str(log), "read_from_head": "on", "refresh_interval": "1"})
    await plugin.start()
    task = asyncio.create_task(plugin.run())
    try:
        await wait_for_async(lambda: len(pipe.records) == 2, 5, 0.02, "the first two lines")
        # a writer without O_APPEND keeps its old offset after the truncation: a hole of NULs
        with log.open("r+b") as handle:
            handle.truncate(0)
            handle.seek(8)
            handle.write(b"three\n")
        for _ in range(200):
            if len(pipe.records) == 3:
                break
            await asyncio.sleep(0.02)
    finally:
        await stop_tail(plugin, task)
    assert [r["log"] for r in pipe.records] == ["one", "two", "three"]


async def test_a_rotated_name_that_still_matches_path_is_not_read_twice(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("1\n2\n")
    plugin, pipe = make_tail({"path": f"{tmp_path}/app.log*", "read_from_head": "on", "rotate_wait": "0",
                              "refresh_interval": "0.1"})
    await plugin.start()
    task = asyncio.create_task(plugin.run())
    try:
        await wait_for_async(lambda: len(pipe.records) == 2, 5, 0.02, "the first two lines")
        log.rename(tmp_path / "app.log.1")
        log.write_text("3\n")
        for _ in range(100):  # long enough for the old file to be retired and rescanned several times
            await asyncio.sleep(0.02)
    finally:
        await stop_tail(plugin, task)
    assert sorted(r["log"] for r in pipe.records) == ["1", "2", "3"]
