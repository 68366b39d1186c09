"""End to end through the real CLI: kinesis_streams and the Go plugin names against moto.

One ``shipper run`` subprocess tails a file per output and ships it; each
test module-level scenario reads the records back from moto (Kinesis with
GetRecords, aggregated records de-aggregated by our own decoder).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import orjson
import pytest

from tests.integration.aws_helpers import aws_client, aws_env, kinesis_records  # noqa: F401 - fixtures
from tests.kpl import deaggregate
from tests.servers.moto import MotoServer, RecordingProxy, moto_proxy, moto_proxy_session, moto_server  # noqa: F401

pytestmark = pytest.mark.slow

LINES = 300

CONFIG = """\
[SERVICE]
    Flush        0.5
    Log_Level    info
    Parsers_File {parsers}

[INPUT]
    Name            tail
    Path            {logs}/*.log
    Tag             app.<name>
    Tag_Regex       (?<name>[a-z]+)\\.log$
    Read_from_Head  On
    Refresh_Interval 1

[FILTER]
    Name       parser
    Match      app.golang
    Key_Name   log
    Parser     json

[OUTPUT]
    Name       kinesis_streams
    Match      app.streams
    region     us-east-1
    endpoint   127.0.0.1
    port       {port}
    stream     c-stream

[OUTPUT]
    Name            kinesis
    Match           app.golang
    region          us-east-1
    endpoint        {url}
    stream          go-stream
    aggregation     true
    partition_key   pod
    append_newline  true
"""


def write_lines(path: Path, count: int) -> None:
    with path.open("a") as handle:
        handle.writelines(orjson.dumps({"n": n, "pod": f"pod-{n % 3}"}).decode() + "\n" for n in range(count))


async def run_until(config: Path, done: Callable[[], Awaitable[bool]], timeout: float = 60) -> str:
    """Run ``shipper run -c config`` until ``done()`` is true (polled), then stop it; returns its output."""
    process = subprocess.Popen(
        [sys.executable, "-m", "shipper", "run", "-c", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(os.environ),
    )
    try:
        deadline = time.monotonic() + timeout
        while not await done() and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output.decode()[-2000:]
    return output.decode()


async def test_kinesis_streams_and_go_kinesis_deliver_every_line(
    tmp_path: Path, moto_server: MotoServer, moto_proxy: RecordingProxy
) -> None:
    async with aws_client(moto_server, "kinesis") as kinesis:
        for stream in ("c-stream", "go-stream"):
            await kinesis.create_stream(StreamName=stream, ShardCount=2)
    logs = tmp_path / "logs"
    logs.mkdir()
    write_lines(logs / "streams.log", LINES)
    write_lines(logs / "golang.log", LINES)
    config = tmp_path / "fluent-bit.conf"
    parsers = tmp_path / "parsers.conf"
    parsers.write_text("[PARSER]\n    Name   json\n    Format json\n")
    config.write_text(CONFIG.format(logs=logs, parsers=parsers, port=moto_proxy.port, url=moto_proxy.url))
    c_records: list[tuple[str, bytes]] = []
    go_records: list[tuple[str | None, bytes]] = []

    async def delivered() -> bool:
        nonlocal c_records, go_records
        c_records = await kinesis_records(moto_server, "c-stream")
        go_records = [r for _, blob in await kinesis_records(moto_server, "go-stream") for r in deaggregate(blob)]
        return len(c_records) >= LINES and len(go_records) >= LINES

    await run_until(config, delivered)
    # kinesis_streams: Fluent Bit's record text (the tail record's "log" holds the line), one record each
    assert sorted(orjson.loads(orjson.loads(d)["log"])["n"] for _, d in c_records) == list(range(LINES))
    # kinesis (Go): aggregated, newline-terminated Go JSON, each user record under its "pod" partition key
    records = [(key, orjson.loads(d)) for key, d in go_records]
    assert sorted(r["n"] for _, r in records) == list(range(LINES)) and all(d.endswith(b"\n") for _, d in go_records)
    assert all(key == r["pod"] for key, r in records)
    assert len(moto_proxy.calls("PutRecords")) >= 2
