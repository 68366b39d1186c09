"""Reload under load: SIGHUP and POST /api/v2/reload with valid and invalid configs."""

from __future__ import annotations

import signal
import urllib.request

from tests.e2e.conftest import start_shipper
from tests.poll import wait_for
from tests.servers.moto import free_port

CONFIG = """\
[SERVICE]
    Flush        0.1
    Grace        5
    HTTP_Server  {http}
    HTTP_Listen  127.0.0.1
    HTTP_Port    {port}
    Hot_Reload   On

[INPUT]
    Name   dummy
    Tag    demo
    Dummy  {{"message": "{message}"}}
    Rate   100

[OUTPUT]
    Name   file
    Match  *
    Path   {out}
    File   records.log
    Format plain
"""


def messages(path):
    return path.read_text().splitlines() if path.exists() else []


def test_sighup_applies_a_valid_config_and_rejects_an_invalid_one(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    conf = tmp_path / "fluent-bit.conf"
    settings = {"http": "Off", "port": 0, "out": out}
    conf.write_text(CONFIG.format(message="one", **settings))
    log = out / "records.log"
    proc = start_shipper("run", "-c", str(conf))
    try:
        wait_for(lambda: '{"message":"one"}' in messages(log), 20, 0.1)
        conf.write_text(CONFIG.format(message="two", **settings).replace("Rate   100", "Rate   lots"))
        proc.send_signal(signal.SIGHUP)
        count = len(messages(log))
        wait_for(lambda: len(messages(log)) > count + 20, 20, 0.1)  # the old pipeline keeps running
        assert '{"message":"two"}' not in messages(log)
        conf.write_text(CONFIG.format(message="two", **settings))
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: '{"message":"two"}' in messages(log), 20, 0.1)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert "reload rejected" in stderr and "Rate" in stderr
    assert "configuration reloaded" in stderr


def test_http_reload_endpoint(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    port = free_port()
    conf = tmp_path / "fluent-bit.conf"
    settings = {"http": "On", "port": port, "out": out}
    conf.write_text(CONFIG.format(message="one", **settings))
    log = out / "records.log"
    proc = start_shipper("run", "-c", str(conf))
    try:
        wait_for(lambda: '{"message":"one"}' in messages(log), 20, 0.1)
        conf.write_text(CONFIG.format(message="three", **settings))
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v2/reload", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        wait_for(lambda: '{"message":"three"}' in messages(log), 20, 0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
        proc.kill()
    assert proc.returncode == 0


def test_sighup_is_ignored_without_hot_reload(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    conf = tmp_path / "fluent-bit.conf"
    settings = {"http": "Off", "port": 0, "out": out}
    conf.write_text(CONFIG.format(message="one", **settings).replace("Hot_Reload   On", "Hot_Reload   Off"))
    log = out / "records.log"
    proc = start_shipper("run", "-c", str(conf))
    try:
        wait_for(lambda: '{"message":"one"}' in messages(log), 20, 0.1)
        conf.write_text(CONFIG.format(message="two", **settings))
        proc.send_signal(signal.SIGHUP)
        count = len(messages(log))
        wait_for(lambda: len(messages(log)) > count + 200, 20, 0.1)  # two seconds: long past when a reload applies
        assert '{"message":"two"}' not in messages(log)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=20)
        proc.kill()
    assert proc.returncode == 0
    assert "Hot_Reload is off" in stderr
    assert "configuration reloaded" not in stderr
