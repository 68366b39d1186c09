"""End to end through the real CLI: kinesis_streams and the Go plugin names against moto.

One ``shipper run`` subprocess tails a file per output and ships it; the
records are read back from moto: Kinesis with GetRecords (aggregated records
split by our own decoder), Firehose from the S3 bucket behind the delivery
stream.
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

from tests.integration.aws_helpers import aws_client, kinesis_records, s3_objects
from tests.kpl import deaggregate
from tests.servers.moto import MotoServer, RecordingProxy

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("aws_env")]

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
    Name        parser
    Match_Regex ^app\\.(golang|cw)$
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

[OUTPUT]
    Name             firehose
    Match            app.hose
    region           us-east-1
    endpoint         {url}
    delivery_stream  {delivery_stream}
    data_keys        log

[OUTPUT]
    Name               cloudwatch
    Match              app.cw
    region             us-east-1
    endpoint           {url}
    log_group_name     /eks/$(kubernetes['namespace_name'])
    log_stream_name    $(kubernetes['pod_name']).$(tag[1])
    auto_create_group  true
"""


def write_lines(path: Path, count: int) -> None:
    with path.open("a") as handle:
        handle.writelines(orjson.dumps({"n": n, "pod": f"pod-{n % 3}"}).decode() + "\n" for n in range(count))


def write_kubernetes_lines(path: Path, count: int) -> None:
    """Lines carrying kubernetes metadata (as the kubernetes filter would add it) for the name templates."""
    with path.open("a") as handle:
        for n in range(count):
            meta = {"namespace_name": f"ns{n % 2}", "pod_name": f"pod{n % 2}"}
            handle.write(orjson.dumps({"n": n, "kubernetes": meta}).decode() + "\n")


async def cloudwatch_messages(moto: MotoServer) -> dict[tuple[str, str], list[str]]:
    """Every event in moto's CloudWatch Logs, by (group, stream)."""
    async with aws_client(moto, "logs") as logs:
        found: dict[tuple[str, str], list[str]] = {}
        for group in (await logs.describe_log_groups())["logGroups"]:
            name = group["logGroupName"]
            for stream in (await logs.describe_log_streams(logGroupName=name))["logStreams"]:
                events = await logs.get_log_events(logGroupName=name, logStreamName=stream["logStreamName"], startFromHead=True)
                found[(name, stream["logStreamName"])] = [e["message"] for e in events["events"]]
        return found


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


async def test_kinesis_streams_and_the_go_names_deliver_every_line(
    tmp_path: Path, moto_server: MotoServer, moto_proxy: RecordingProxy, delivery_stream: str
) -> None:
    async with aws_client(moto_server, "kinesis") as kinesis:
        for stream in ("c-stream", "go-stream"):
            await kinesis.create_stream(StreamName=stream, ShardCount=2)
    logs = tmp_path / "logs"
    logs.mkdir()
    write_lines(logs / "streams.log", LINES)
    write_lines(logs / "golang.log", LINES)
    write_lines(logs / "hose.log", LINES)
    write_kubernetes_lines(logs / "cw.log", LINES)
    config = tmp_path / "fluent-bit.conf"
    parsers = tmp_path / "parsers.conf"
    parsers.write_text("[PARSER]\n    Name   json\n    Format json\n")
    config.write_text(CONFIG.format(logs=logs, parsers=parsers, port=moto_proxy.port, url=moto_proxy.url, delivery_stream=delivery_stream))
    c_records: list[tuple[str, bytes]] = []
    go_records: list[tuple[str | None, bytes]] = []
    hose_lines: list[bytes] = []
    cw_events: dict[tuple[str, str], list[str]] = {}

    async def delivered() -> bool:
        nonlocal c_records, go_records, hose_lines, cw_events
        c_records = await kinesis_records(moto_server, "c-stream")
        go_records = [r for _, blob in await kinesis_records(moto_server, "go-stream") for r in deaggregate(blob)]
        hose_lines = b"".join(await s3_objects(moto_server)).splitlines()
        cw_events = await cloudwatch_messages(moto_server)
        cw_count = sum(map(len, cw_events.values()))
        return min(len(c_records), len(go_records), len(hose_lines), cw_count) >= LINES

    await run_until(config, delivered)
    # kinesis_streams: Fluent Bit's record text (the tail record's "log" holds the line), one record each
    assert sorted(orjson.loads(orjson.loads(d)["log"])["n"] for _, d in c_records) == list(range(LINES))
    # kinesis (Go): aggregated, newline-terminated Go JSON, each user record under its "pod" partition key
    records = [(key, orjson.loads(d)) for key, d in go_records]
    assert sorted(r["n"] for _, r in records) == list(range(LINES)) and all(d.endswith(b"\n") for _, d in go_records)
    assert all(key == r["pod"] for key, r in records)
    assert len(moto_proxy.calls("PutRecords")) >= 2
    # firehose (Go): data_keys keeps "log" only; Go JSON lines in the S3 objects behind the delivery stream
    assert sorted(orjson.loads(orjson.loads(line)["log"])["n"] for line in hose_lines) == list(range(LINES))
    assert all(list(orjson.loads(line)) == ["log"] for line in hose_lines)
    # cloudwatch (Go): $(...) templates put each namespace in its own group and each pod in its own stream
    assert set(cw_events) == {("/eks/ns0", "pod0.cw"), ("/eks/ns1", "pod1.cw")}
    for (group, _), messages in cw_events.items():
        records = [orjson.loads(m) for m in messages]
        assert {r["kubernetes"]["namespace_name"] for r in records} == {group.removeprefix("/eks/")}
    assert sorted(orjson.loads(m)["n"] for ms in cw_events.values() for m in ms) == list(range(LINES))


def test_check_names_go_plugin_option_problems_with_their_line(tmp_path: Path) -> None:
    config = tmp_path / "fluent-bit.conf"
    config.write_text(
        "[INPUT]\n    Name dummy\n\n"
        "[OUTPUT]\n    Name cloudwatch\n    Match *\n    region us-east-1\n    log_group_name g\n"
        "    log_stream_prefix p-\n    log_retention_days 10\n\n"
        "[OUTPUT]\n    Name kinesis\n    Match *\n    region us-east-1\n    stream s\n    partition_key log\n"
    )
    result = subprocess.run([sys.executable, "-m", "shipper", "check", "-c", str(config)], capture_output=True, text=True, timeout=60)
    report = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"{config}:10" in report and "log_retention_days 10" in report
    assert f"{config}:17" in report and "partition key" in report
