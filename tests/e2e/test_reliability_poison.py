"""One record nested 1,000 levels deep must not wedge an output (issue 18, failure 1).

A 2 KB JSON log nested 1,000 levels parses, but no output can encode it.
Before, that was "unexpected, will retry": with ``Retry_Limit no_limits`` the
worker retried it forever and nothing else was sent.  Now the parser leaves
such a text a string: it is delivered as text and counted, and every good
line around it arrives.  (A record that still reaches an output unencodable
is dropped alone by the engine: tests/unit/test_engine.py.)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from bench.reliability import Shipper, child_env
from tests.poll import wait_for
from tests.servers.moto import MotoServer, free_port

GOOD_LINES = 2_000
DEEP = '{"a":' * 1_000 + "1" + "}" * 1_000

CONFIG = """\
[SERVICE]
    Flush             0.2
    Log_Level         info
    Parsers_File      {parsers}
    HTTP_Server       On
    HTTP_Listen       127.0.0.1
    HTTP_Port         {http_port}
    scheduler.base    0.2
    scheduler.cap     1

[INPUT]
    Name              tail
    Path              {logs}/*.log
    Tag               app.<name>
    Tag_Regex         (?<name>[a-z]+)\\.log$
    Read_from_Head    On
    Refresh_Interval  1
    DB                {work}/offsets.db

[FILTER]
    Name              parser
    Match             app.*
    Key_Name          log
    Parser            json

[OUTPUT]
    Name              cloudwatch_logs
    Match             app.*
    region            us-east-1
    endpoint          {endpoint}
    log_group_name    poison
    log_stream_name   s
    auto_create_group On
    Retry_Limit       no_limits
"""


def setup(work: Path, endpoint: str, http_port: int) -> Path:
    logs = work / "logs"
    logs.mkdir(parents=True)
    lines = [orjson.dumps({"n": n, "msg": "good"}).decode() for n in range(GOOD_LINES)]
    lines.insert(GOOD_LINES // 2, DEEP)
    (logs / "good.log").write_text("\n".join(lines) + "\n")
    parsers = work / "parsers.conf"
    parsers.write_text("[PARSER]\n    Name   json\n    Format json\n")
    config = work / "shipper.conf"
    config.write_text(CONFIG.format(parsers=parsers, http_port=http_port, logs=logs, work=work, endpoint=endpoint))
    return config


def stored_messages(moto_url: str) -> list[str]:
    import boto3

    client = boto3.client("logs", region_name="us-east-1", endpoint_url=moto_url,
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    try:
        pages = client.get_paginator("filter_log_events").paginate(logGroupName="poison")
        return [event["message"] for page in pages for event in page["events"]]
    except client.exceptions.ResourceNotFoundException:
        return []


@pytest.mark.slow
def test_a_line_nested_1000_levels_stays_text_and_every_good_line_arrives(
    tmp_path: Path, moto_server: MotoServer  # noqa: F811
) -> None:
    moto_server.reset()
    port = free_port()
    config = setup(tmp_path, moto_server.url, port)
    shipper = Shipper(config, tmp_path / "shipper.log", child_env(tmp_path), port).start()
    try:
        shipper.wait_ready()
        wait_for(lambda: len(stored_messages(moto_server.url)) >= GOOD_LINES + 1, 60, 0.5, "every line stored")
        dropped = shipper.metric("fluentbit_output_dropped_records_total")
        retries = shipper.metric("fluentbit_output_retries_total")
        too_deep = shipper.metric("shipper_parser_too_deep_records_total")
        messages = stored_messages(moto_server.url)
    finally:
        assert shipper.stop() == 0
    good = sorted(orjson.loads(m)["n"] for m in messages if m.startswith('{"n":'))
    assert good == list(range(GOOD_LINES)), "every good line arrives once"
    assert [orjson.loads(m) for m in messages if not m.startswith('{"n":')] == [{"log": DEEP}], "left a string"
    assert too_deep == 1 and dropped == 0 and retries == 0
    assert "nest deeper than 200 levels" in shipper.log_text()


def test_dry_run_shows_the_deep_line_as_text(tmp_path: Path) -> None:
    config = setup(tmp_path, "http://127.0.0.1:9", free_port())
    done = subprocess.run(
        [sys.executable, "-m", "shipper", "dry-run", "-c", str(config), "--log-dir", str(tmp_path / "logs")],
        capture_output=True, text=True, timeout=120, env=child_env(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    payloads = [orjson.loads(orjson.loads(line)["payload"]) for line in done.stdout.splitlines()]
    assert len(payloads) == GOOD_LINES + 1
    assert payloads[GOOD_LINES // 2] == {"log": DEEP}
    assert "refused" not in done.stderr
