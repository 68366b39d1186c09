"""``shipper tap`` against a running daemon: live records at an input, a filter and an output.

The daemon is the real CLI in a subprocess with ``HTTP_Tap On``; the tap is
the real ``shipper tap`` command reading ``/api/v1/tap``.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import SHIPPER, shipper, start_shipper
from tests.servers.moto import free_port

CONFIG = """
[SERVICE]
    Flush        0.2
    Grace        2
    HTTP_Server  On
    HTTP_Listen  127.0.0.1
    HTTP_Port    {port}
{tap}
[INPUT]
    Name   dummy
    Tag    app.web
    Rate   50
    Dummy  {{"msg":"hello"}}
[INPUT]
    Name   dummy
    Tag    other.job
    Rate   50
    Dummy  {{"msg":"other"}}
[FILTER]
    Name   modify
    Match  app.*
    Add    env prod
[OUTPUT]
    Name   null
    Alias  sink
    Match  *
"""


def wait_ready(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url + "/api/v1/uptime", timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def daemon(tmp_path: Path, tap: bool) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    config = tmp_path / "shipper.conf"
    config.write_text(CONFIG.format(port=port, tap="    HTTP_Tap     On" if tap else ""))
    proc = start_shipper("run", "-c", str(config))
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url)
        yield url, proc
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    yield from daemon(tmp_path, tap=True)


@pytest.fixture
def tapped(running: tuple[str, subprocess.Popen[str]]) -> str:
    return running[0]


@pytest.fixture
def untapped(tmp_path: Path) -> Iterator[str]:
    for url, _ in daemon(tmp_path, tap=False):
        yield url


def tap(url: str, *args: str) -> tuple[int, list[dict], str]:
    result = shipper("tap", "--url", url, *args, timeout=60)
    return result.returncode, [json.loads(line) for line in result.stdout.splitlines()], result.stderr


def test_tap_shows_what_a_filter_emits_and_stops_at_the_limit(tapped: str) -> None:
    code, rows, err = tap(tapped, "modify.0", "--limit", "3")
    assert code == 0, err
    assert len(rows) == 3
    assert all(r["kind"] == "filter" and r["name"] == "modify.0" and r["tag"] == "app.web" for r in rows)
    assert all(r["record"] == {"msg": "hello", "env": "prod"} for r in rows)
    assert all(r["time"].endswith("Z") for r in rows)


def test_tap_on_an_input_shows_records_before_the_filters(tapped: str) -> None:
    code, rows, err = tap(tapped, "dummy.0", "--limit", "2")
    assert code == 0, err
    assert [r["record"] for r in rows] == [{"msg": "hello"}, {"msg": "hello"}]
    assert {r["kind"] for r in rows} == {"input"}


def test_tap_on_an_output_filters_by_tag(tapped: str) -> None:
    code, rows, err = tap(tapped, "sink", "--match", "other.*", "--limit", "4")
    assert code == 0, err
    assert len(rows) == 4
    assert {(r["kind"], r["tag"]) for r in rows} == {("output", "other.job")}
    assert all(r["record"] == {"msg": "other"} for r in rows)


def test_tap_samples_at_the_rate_asked(running: tuple[str, subprocess.Popen[str]]) -> None:
    # 50 records a second pass dummy.1: at 2 a second the tap takes a sample and skips the rest
    url, proc = running
    code, rows, err = tap(url, "dummy.1", "--rate", "2", "--limit", "4")
    assert code == 0, err
    assert len(rows) == 4
    proc.terminate()
    _, log = proc.communicate(timeout=30)
    closed = re.search(r"tap closed on dummy\.1: (\d+) records sent, (\d+) skipped", log)
    assert closed is not None, log
    assert int(closed[1]) == 4 and int(closed[2]) > 0


def test_tap_names_the_instances_when_the_name_is_wrong(tapped: str) -> None:
    code, rows, err = tap(tapped, "grep.0", "--limit", "1")
    assert code == 1 and rows == []
    assert "no instance named 'grep.0'" in err
    assert "dummy.0, dummy.1, modify.0, sink" in err


def test_tap_is_off_unless_http_tap_is_on(untapped: str) -> None:
    code, rows, err = tap(untapped, "modify.0", "--limit", "1")
    assert code == 1 and rows == []
    assert "set HTTP_Tap On" in err


def test_tap_says_when_no_daemon_listens() -> None:
    code, _, err = tap(f"http://127.0.0.1:{free_port()}", "modify.0", "--limit", "1")
    assert code == 1
    assert "cannot reach the daemon" in err


def test_an_open_tap_does_not_hold_up_shutdown(running: tuple[str, subprocess.Popen[str]]) -> None:
    url, proc = running
    client = subprocess.Popen([*SHIPPER, "tap", "--url", url, "modify.0"], stdout=subprocess.PIPE, text=True)
    try:
        assert client.stdout is not None and json.loads(client.stdout.readline())["name"] == "modify.0"
        proc.terminate()
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert "tap closed on modify.0" in err
        assert "HTTP_Tap is on: /api/v1/tap shows log contents to anyone who can reach 127.0.0.1:" in err
        assert "[ info]" in err.split("HTTP_Tap is on")[0].splitlines()[-1]  # loopback only: no warning
        client.communicate(timeout=30)
        assert client.returncode == 0
    finally:
        client.kill()
