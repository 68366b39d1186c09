"""Hot reload under load: a tail → file pipeline keeps every line across valid and invalid reloads.

The writer appends numbered lines across rotating files while the config is
replaced three times: an invalid config (rejected, logged, the old pipeline
keeps shipping), a valid one that adds a field (applied: later records carry
it), and a ``POST /api/v2/reload`` of the same valid config.  At the end
every written line is in the output file at least once, and lines kept
arriving after every reload (no stall: each wait is bounded, not timed).
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from bench.reliability import Shipper, Writer, child_env, reload_scenario
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



@pytest.mark.slow
def test_a_reload_storm_leaves_files_and_memory_flat(tmp_path: Path, moto_server: MotoServer) -> None:  # noqa: F811
    """50 reloads, each waited for until the new pipeline runs, after 15 to warm up; then 50 SIGHUPs at once.

    ``python -m bench.reliability reloads --full`` runs 1,000.
    """
    report = reload_scenario(tmp_path, moto_server, reloads=50, warm_up=15, sighups=50)
    print(f"\n{report.summary()}")
    (_, files, rss), (_, files_after, rss_after) = report.samples[0], report.samples[-1]
    assert files_after <= files + 3
    assert rss_after <= rss + 15e6
    assert 1 <= report.storm <= report.sighups
