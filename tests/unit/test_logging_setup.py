"""shipper's own log: Fluent Bit's text format, JSON lines, levels, Log_File, rate-limited repeats."""

from __future__ import annotations

import io
import json
import logging
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from shipper.logging_setup import (
    TRACE,
    RepeatFilter,
    apply_instance_levels,
    component,
    configure_logging,
    parse_level,
)

FLB_LINE = re.compile(r"^\[\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\] \[(error| warn| info|debug|trace)\] \[[^\]]+\] ")


def test_component_names_follow_fluent_bit() -> None:
    assert component("shipper.input.tail.0") == "input:tail:tail.0"
    assert component("shipper.output.cloudwatch_logs.1") == "output:cloudwatch_logs:cloudwatch_logs.1"
    assert component("shipper.output.app_logs") == "output:app_logs"
    assert component("shipper.engine") == "engine"
    assert component("shipper.http_server") == "http_server"
    assert component("aiohttp.access") == "aiohttp.access"


def test_parse_level_accepts_fluent_bit_words() -> None:
    assert parse_level("Warn") == logging.WARNING
    assert parse_level("trace") == TRACE
    assert parse_level("off") > logging.CRITICAL
    with pytest.raises(ValueError, match="unknown log level 'loud'"):
        parse_level("loud")


def test_text_format_levels_and_library_filtering() -> None:
    stream = io.StringIO()
    setup = configure_logging("debug", stream=stream)
    logging.getLogger("shipper.input.tail.0").info("inotify_fs_add(): name=%s", "/var/log/a.log")
    logging.getLogger("shipper.engine").warning("failed to flush chunk")
    logging.getLogger("shipper.engine").debug("debug shows at debug")
    logging.getLogger("shipper.engine").log(TRACE, "trace hidden at debug")
    logging.getLogger("botocore.hooks").info("library chatter stays out")
    logging.getLogger("botocore.hooks").warning("library warnings come through")
    setup.close()
    lines = stream.getvalue().splitlines()
    assert all(FLB_LINE.match(line) for line in lines), lines
    assert lines[0].endswith("[ info] [input:tail:tail.0] inotify_fs_add(): name=/var/log/a.log")
    assert lines[1].endswith("[ warn] [engine] failed to flush chunk")
    assert lines[2].endswith("[debug] [engine] debug shows at debug")
    assert lines[3].endswith("[ warn] [botocore.hooks] library warnings come through")
    assert len(lines) == 4


def test_json_format_carries_extras_and_exceptions() -> None:
    stream = io.StringIO()
    setup = configure_logging("info", log_format="json", stream=stream)
    log = logging.getLogger("shipper.output.cloudwatch_logs.0")
    log.warning("rejected %d records", 3, extra={"reason": "too_old", "log_group": "/aws/app"})
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("flush failed")
    setup.close()
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["level"] == "warn" and first["component"] == "output:cloudwatch_logs:cloudwatch_logs.0"
    assert first["message"] == "rejected 3 records"
    assert (first["reason"], first["log_group"]) == ("too_old", "/aws/app")
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", first["time"])
    assert second["level"] == "error" and "RuntimeError: boom" in second["exception"]


def test_log_file_and_off(tmp_path: Path) -> None:
    target = tmp_path / "shipper.log"
    setup = configure_logging("info", log_file=str(target))
    logging.getLogger("shipper.engine").info("to the file")
    setup.close()
    assert target.read_text().rstrip().endswith("[ info] [engine] to the file")
    stream = io.StringIO()
    setup = configure_logging("off", stream=stream)
    logging.getLogger("shipper.engine").error("silenced")
    setup.close()
    assert stream.getvalue() == ""


def test_unwritable_log_file_falls_back_to_stderr_with_an_error(tmp_path: Path) -> None:
    stream = io.StringIO()
    setup = configure_logging("info", log_file=str(tmp_path / "missing" / "x.log"), stream=stream)
    logging.getLogger("shipper.engine").info("still logged")
    setup.close()
    text = stream.getvalue()
    assert "[error] [shipper] cannot open Log_File" in text
    assert "still logged" in text


def test_reconfiguring_replaces_the_handler() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging("info", stream=first)
    setup = configure_logging("info", stream=second)
    logging.getLogger("shipper.engine").info("once")
    setup.close()
    assert first.getvalue() == "" and second.getvalue().count("once") == 1


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _record(message: str, level: int = logging.WARNING, name: str = "shipper.output.x.0") -> logging.LogRecord:
    return logging.LogRecord(name, level, "", 0, message, None, None)


def test_repeat_filter_suppresses_identical_warnings_and_reports_the_count() -> None:
    clock = Clock()
    repeats = RepeatFilter(window=60, clock=clock)
    assert repeats.filter(_record("throttled"))
    passed = [repeats.filter(_record("throttled")) for _ in range(41)]
    assert not any(passed)
    assert repeats.filter(_record("a different warning"))
    assert repeats.filter(_record("throttled", level=logging.INFO)) and repeats.filter(_record("throttled", logging.INFO))
    clock.now = 61
    record = _record("throttled")
    assert repeats.filter(record)
    assert record.getMessage() == "throttled (41 identical messages suppressed in the last 60s)"
    assert record.suppressed == 41


def test_repeat_filter_memory_is_bounded() -> None:
    clock = Clock()
    repeats = RepeatFilter(window=1, max_keys=10, clock=clock)
    for i in range(100):
        clock.now = i
        assert repeats.filter(_record(f"message {i}"))
    assert len(repeats._seen) <= 11


def test_close_reports_suppressed_counts() -> None:
    stream = io.StringIO()
    setup = configure_logging("info", stream=stream)
    log = logging.getLogger("shipper.output.firehose.0")
    for _ in range(5):
        log.warning("delivery stream not found")
    setup.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[1].endswith("[ warn] [output:firehose:firehose.0] delivery stream not found (4 identical messages suppressed)")


def test_instance_log_level() -> None:
    stream = io.StringIO()
    setup = configure_logging("info", stream=stream)
    quiet = SimpleNamespace(settings={"log_level": "error"}, log=logging.getLogger("shipper.input.tail.7"))
    loud = SimpleNamespace(settings={"log_level": "debug"}, log=logging.getLogger("shipper.input.tail.8"))
    bad = SimpleNamespace(settings={"log_level": "loud"}, log=logging.getLogger("shipper.input.tail.9"))
    apply_instance_levels([quiet, loud, bad, SimpleNamespace(settings={}, log=None)])
    quiet.log.warning("hidden")
    loud.log.debug("shown")
    setup.close()
    for plugin in (quiet, loud, bad):
        plugin.log.setLevel(logging.NOTSET)
    text = stream.getvalue()
    assert "hidden" not in text and "[debug] [input:tail:tail.8] shown" in text
    assert "unknown log level 'loud'" in text
