"""End to end: ``shipper run`` (a subprocess) tails files into moto's CloudWatch Logs; every line arrives exactly once."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.integration.aws_helpers import read_back
from tests.poll import wait_for_async
from tests.servers.moto import MotoServer, RecordingProxy

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("aws_env")]

CONFIG = """\
[SERVICE]
    Flush        0.5
    Log_Level    info
    scheduler.base 0.2
    scheduler.cap  1

[INPUT]
    Name            tail
    Path            {logs}/*.log
    Tag             app.<name>
    Tag_Regex       (?<name>[a-z]+)\\.log$
    Read_from_Head  On
    Refresh_Interval 1
    DB              {state}/offsets.db

[OUTPUT]
    Name               cloudwatch_logs
    Match              app.*
    region             us-east-1
    endpoint           127.0.0.1
    port               {port}
    log_group_name     e2e
    log_stream_prefix  node-
    auto_create_group  On
    Retry_Limit        no_limits
"""


def write_lines(path: Path, start: int, count: int) -> None:
    with path.open("a") as handle:
        handle.writelines(orjson.dumps({"n": n, "file": path.stem}).decode() + "\n" for n in range(start, start + count))


async def test_shipper_run_ships_every_line_exactly_once(
    tmp_path: Path, moto_server: MotoServer, moto_proxy: RecordingProxy
) -> None:
    logs, state = tmp_path / "logs", tmp_path / "state"
    logs.mkdir()
    state.mkdir()
    config = tmp_path / "fluent-bit.conf"
    config.write_text(CONFIG.format(logs=logs, state=state, port=moto_proxy.port))
    write_lines(logs / "api.log", 0, 3_000)
    write_lines(logs / "worker.log", 0, 500)
    moto_proxy.fail("PutLogEvents", 500, "ServiceUnavailableException", times=1)  # one failure on the way
    process = subprocess.Popen(
        [sys.executable, "-m", "shipper", "run", "-c", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(os.environ),
    )
    expected = {"node-app.api": 4_000, "node-app.worker": 500}
    stored: dict[str, list[str]] = {}

    async def shipped(at_least: dict[str, int]) -> bool:
        for stream in expected:
            try:
                stored[stream] = [e["message"] for e in await read_back(moto_server, "e2e", stream)]
            except Exception:  # the stream may not exist yet
                stored[stream] = []
        return all(len(stored[s]) >= n for s, n in at_least.items())

    try:
        # the first lines have arrived, so the file is being tailed when more is appended
        await wait_for_async(lambda: shipped({"node-app.api": 1}), 60, 0.2, "first lines shipped")
        write_lines(logs / "api.log", 3_000, 1_000)  # appended while running
        with contextlib.suppress(AssertionError):  # the assertions below say what is missing
            await wait_for_async(lambda: shipped(expected), 60, 0.5, "every line shipped")
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output.decode()[-2000:]
    for stream, count in expected.items():
        numbers = [orjson.loads(orjson.loads(m)["log"])["n"] for m in stored[stream]]
        assert sorted(numbers) == list(range(count)), f"{stream}: {len(numbers)} events, {len(set(numbers))} distinct"
