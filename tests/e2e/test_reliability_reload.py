"""Hot reload under load: a tail → file pipeline keeps every line across valid and invalid reloads.

The writer appends numbered lines across rotating files while the config is
replaced three times: an invalid config (rejected, logged, the old pipeline
keeps shipping), a valid one that adds a field (applied: later records carry
it), and a ``POST /api/v2/reload`` of the same valid config.  At the end
every written line is in the output file at least once, and lines kept
arriving after every reload (no stall: each wait is bounded, not timed).
"""

from __future__ import annotations

import signal
from pathlib import Path

import orjson
import pytest

from bench.reliability import Shipper, Writer, child_env, rss_bytes
from tests.e2e.writer import parse_line
from tests.poll import wait_for
from tests.servers.moto import MotoServer, free_port, moto_server  # noqa: F401 - fixture

CONFIG = """\
[SERVICE]
    Flush         0.2
    Grace         10
    Log_Level     info
    HTTP_Server   On
    HTTP_Listen   127.0.0.1
    HTTP_Port     {port}
    Hot_Reload    On

[INPUT]
    Name            tail
    Path            {logs}/*.log
    Tag             app.*
    DB              {work}/offsets.db
    Read_from_Head  On
    Refresh_Interval 1
    Mem_Buf_Limit   4M
{filter}
[OUTPUT]
    Name    file
    Match   app.*
    Path    {work}/out
    File    records.jsonl
    Format  plain
    Mkdir   On
    Retry_Limit no_limits
"""

GENERATION_FILTER = """
[FILTER]
    Name    record_modifier
    Match   app.*
    Record  generation two
"""


def records(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.endswith(b"}")]


@pytest.mark.slow
def test_reloads_under_load_lose_nothing_and_never_stall(tmp_path: Path) -> None:
    logs, out = tmp_path / "logs", tmp_path / "out" / "records.jsonl"
    logs.mkdir()
    port = free_port()
    conf = tmp_path / "shipper.conf"

    def configure(filter_text: str = "", broken: bool = False) -> None:
        text = CONFIG.format(port=port, logs=logs, work=tmp_path, filter=filter_text)
        conf.write_text(text.replace("Mem_Buf_Limit   4M", "Mem_Buf_Limit   lots") if broken else text)

    def count() -> int:
        return len(records(out))

    def grows(by: int = 200) -> None:
        start = count()
        wait_for(lambda: count() >= start + by, 30, 0.1, "records still arriving")

    configure()
    shipper = Shipper(conf, tmp_path / "shipper.log", child_env(tmp_path), port)
    writer = Writer(logs, files=10, lines=3000, rate=2000, rotate_every=1000)
    try:
        shipper.start().wait_ready()
        grows()
        configure(broken=True)  # Hot_Reload sees the change; the new config is invalid
        wait_for(lambda: "reload rejected" in shipper.log_text(), 30, 0.1, "invalid config rejected")
        grows()
        configure(GENERATION_FILTER)  # valid: applied by Hot_Reload
        wait_for(lambda: any(r.get("generation") == "two" for r in records(out)), 30, 0.1, "new config applied")
        grows()
        status, body = shipper.post("/api/v2/reload")
        assert (status, orjson.loads(body)) == (200, {"reload": "done", "status": 0})
        grows()
        writer.wait(timeout=60)
        expected = writer.expected
        wait_for(lambda: expected <= {parse_line(r["log"]) for r in records(out)}, 60, 0.5, "every line written out")
        assert shipper.stop() == 0
    finally:
        writer.stop()
        shipper.ensure_stopped()
    log = shipper.log_text()
    assert "Mem_Buf_Limit" in log  # the rejection names the bad option
    assert log.count("configuration reloaded") >= 2
    lines = [parse_line(r["log"]) for r in records(out)]
    assert set(lines) == expected
    print(f"\n{len(lines)} records for {len(expected)} lines: {len(lines) - len(expected)} duplicates across reloads")


STORM_CONFIG = """\
[SERVICE]
    Flush         0.2
    Grace         5
    Log_Level     info
    HTTP_Server   On
    HTTP_Listen   127.0.0.1
    HTTP_Port     {port}
    Hot_Reload    On

[INPUT]
    Name            tail
    Path            {work}/logs/*.log
    Tag             app.*
    DB              {work}/offsets.db
    Read_from_Head  On

[INPUT]
    Name    dummy
    Tag     beat
    Rate    5

[OUTPUT]
    Name               cloudwatch_logs
    Match              *
    region             us-east-1
    endpoint           {endpoint}
    log_group_name     reloads
    log_stream_name    storm
    auto_create_group  On

[OUTPUT]
    Name    file
    Match   *
    Path    {work}
    File    records.log
"""
#: reloads before the first measurement: the first few grow the heap to its working size.
WARM_UP = 15
RELOADS = 50


def open_files(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))


@pytest.mark.slow
def test_a_reload_storm_leaves_files_and_memory_flat(tmp_path: Path, moto_server: MotoServer) -> None:  # noqa: F811
    """RELOADS reloads, each waited for until the new pipeline runs, then a burst of SIGHUPs."""
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "app.log").write_text("a line\n" * 10)
    port = free_port()
    conf = tmp_path / "shipper.conf"
    conf.write_text(STORM_CONFIG.format(port=port, work=tmp_path, endpoint=moto_server.url))
    shipper = Shipper(conf, tmp_path / "shipper.log", child_env(tmp_path), port)
    done = iter(range(1, 10**6))

    def reload() -> None:
        status, body = shipper.post("/api/v2/reload")
        assert (status, orjson.loads(body)) == (200, {"reload": "done", "status": 0})
        applied = next(done)
        wait_for(lambda: shipper.log_text().count("configuration reloaded") >= applied, 30, 0.02, f"reload {applied}")

    try:
        shipper.start().wait_ready()
        for _ in range(WARM_UP):
            reload()
        files, rss = open_files(shipper.pid), rss_bytes(shipper.pid)
        for _ in range(RELOADS):
            reload()
        files_after, rss_after = open_files(shipper.pid), rss_bytes(shipper.pid)
        applied = shipper.metric("shipper_reloads_total")
        for _ in range(50):
            assert shipper.process is not None
            shipper.process.send_signal(signal.SIGHUP)
        wait_for(lambda: shipper.metric("shipper_reloads_total") > applied, 30, 0.1, "SIGHUP reload applied")
        wait_for(shipper.answering, 30, 0.1, "monitoring server answering after the SIGHUPs")
        storm = shipper.metric("shipper_reloads_total") - applied
        assert shipper.stop() == 0
    finally:
        shipper.ensure_stopped()
    print(f"\n{RELOADS} reloads: open files {files} -> {files_after}, RSS {rss / 1e6:.1f} -> {rss_after / 1e6:.1f} MB; "
          f"50 SIGHUPs -> {storm:g} reloads")
    assert files_after <= files + 3
    assert rss_after <= rss + 15e6
    assert 1 <= storm <= 50
