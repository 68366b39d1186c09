"""Container logs written by a real process while tail reads: partials reassemble exactly.

The writer flushes in the middle of lines and between the P and F pieces
of a message, so tail sees every kind of incomplete read.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from pathlib import Path

import pytest

from tests.poll import wait_for_async
from tests.unit.test_tail_input import FakeRuntime, make_tail, stop_tail

WRITER = r'''
import json, random, sys, time
path, fmt, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = random.Random(11)
cuts = random.Random(5)
with open(path, "a") as out:
    for i in range(count):
        stream = "stderr" if i % 7 == 0 else "stdout"
        text = f"msg {i} " + "".join(rng.choice("abc \"\\{}é") for _ in range(rng.randrange(0, 400)))
        pieces = [text[j:j + 97] for j in range(0, len(text), 97)] or [""]
        for k, piece in enumerate(pieces):
            last = k == len(pieces) - 1
            stamp = f"2024-03-05T10:15:{i % 60:02d}.{i:09d}Z"
            if fmt == "cri":
                line = f"{stamp} {stream} {'F' if last else 'P'} {piece}\n"
            else:
                line = json.dumps({"log": piece + ("\n" if last else ""), "stream": stream, "time": stamp}) + "\n"
            cut = cuts.randrange(len(line))
            out.write(line[:cut]); out.flush()
            out.write(line[cut:])
            if cuts.random() < 0.05:
                out.flush(); time.sleep(0.001)
'''

COUNT = 2000


def expected_messages(count: int) -> list[str]:
    rng = random.Random(11)
    return [f"msg {i} " + "".join(rng.choice("abc \"\\{}é") for _ in range(rng.randrange(0, 400))) for i in range(count)]


@pytest.mark.parametrize("fmt", ["cri", "docker"])
async def test_partials_from_a_live_writer_reassemble_exactly(tmp_path: Path, fmt: str) -> None:
    log = tmp_path / "c.log"
    log.touch()
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    plugin, pipe = make_tail({"path": str(log), "read_from_head": "on", "multiline.parser": "docker, cri"},
                             FakeRuntime())
    await plugin.start()
    task = asyncio.create_task(plugin.run())
    writer = await asyncio.create_subprocess_exec(sys.executable, str(script), str(log), fmt, str(COUNT))
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (writer.returncode is None or len(pipe.records) < COUNT):
            await asyncio.sleep(0.05)
        assert await asyncio.wait_for(writer.wait(), 10) == 0
    finally:
        if writer.returncode is None:
            writer.kill()
            await writer.wait()
        await stop_tail(plugin, task)
    texts = [r["log"].removesuffix("\n") for r in pipe.records]
    by_number = sorted(texts, key=lambda t: int(t.split(" ", 2)[1]))
    assert by_number == expected_messages(COUNT)
    if fmt == "docker":
        assert all(r["log"].endswith("\n") for r in pipe.records)
        assert set(pipe.records[0]) == {"log", "stream", "time"}
    else:
        assert list(pipe.records[0]) == ["time", "stream", "_p", "log"]
    assert json.dumps(pipe.records)  # plain JSON-serialisable records


async def test_a_pending_group_never_times_out_while_its_rest_waits_unread(tmp_path: Path) -> None:
    log = tmp_path / "c.log"
    log.write_text("2024-03-05T10:15:30.000000000Z stdout P first half, \n")
    plugin, pipe = make_tail({"path": str(log), "read_from_head": "on", "multiline.parser": "cri"})
    await plugin.start()
    task = asyncio.create_task(plugin.run())
    try:
        await wait_for_async(lambda: bool(plugin.files) and all(t.at_eof for t in plugin.files.values()), 5, 0.02,
                             "the file read to its end")
        with log.open("a") as handle:  # the rest arrives; tail has not read it yet
            handle.write("2024-03-05T10:15:30.000000000Z stdout F second half\n")
        tail = next(iter(plugin.files.values()))
        await plugin._check_files(time.monotonic() + 60, [tail])  # long past the flush timeout
        assert pipe.records == []  # not flushed: the file is not quiet
        for _ in range(200):
            if pipe.records:
                break
            await asyncio.sleep(0.02)
    finally:
        await stop_tail(plugin, task)
    assert [r["log"] for r in pipe.records] == ["first half, second half"]
