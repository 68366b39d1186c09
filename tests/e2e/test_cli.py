"""The CLI end to end: run + SIGTERM, the dry-run contract, check's errors."""

from __future__ import annotations

import re
import signal
import subprocess

import orjson

from tests.e2e.conftest import SHIPPER, shipper, start_shipper
from tests.poll import wait_for

DUMMY_TO_FILE = """\
[SERVICE]
    Flush  0.2
    Grace  5

[INPUT]
    Name   dummy
    Tag    demo
    Dummy  {{"message": "hello", "n": 1}}
    Rate   50

[OUTPUT]
    Name   file
    Match  *
    Path   {out}
    File   records.log
"""


def test_run_then_sigterm_delivers_every_record(tmp_path, write):
    out = tmp_path / "out"
    out.mkdir()
    conf = write("fluent-bit.conf", DUMMY_TO_FILE.format(out=out))
    proc = start_shipper("run", "-c", str(conf))
    try:
        records = out / "records.log"
        wait_for(lambda: records.exists() and records.read_text().count("\n") >= 20, 20, 0.1, f"20 lines in {records}")
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0, stderr
    lines = (out / "records.log").read_text().splitlines()
    assert len(lines) >= 20
    for line in lines:
        assert re.fullmatch(r'demo: \[\d+\.\d{9}, \{"message":"hello","n":1\}\]', line), line
    emitted = re.search(r"shutting down", stderr)
    assert emitted, stderr


def test_dry_run_prints_the_jsonl_contract(tmp_path, write):
    conf = write(
        "fluent-bit.conf",
        """\
[INPUT]
    Name    dummy
    Tag     app.demo
    Dummy   {"msg": "café"}
    Samples 3
    Rate    100

[OUTPUT]
    Name   file
    Match  app.*
    Path   /var/log/out
    Format plain

[OUTPUT]
    Name   stdout
    Alias  screen
    Match  *
    Format json_lines
""",
    )
    result = shipper("dry-run", "-c", str(conf), "--log-dir", str(tmp_path), "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    rows = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 6
    for row in rows:
        assert list(row) == ["output", "destination", "tag", "time", "payload"]
        assert row["tag"] == "app.demo"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", row["time"])
    files = [r for r in rows if r["output"] == "file.0"]
    assert [r["destination"] for r in files] == [{"path": "/var/log/out/app.demo"}] * 3
    assert {r["payload"] for r in files} == {'{"msg":"caf\\u00e9"}'}
    screen = [r for r in rows if r["output"] == "screen"]
    assert len(screen) == 3 and orjson.loads(screen[0]["payload"])["msg"] == "café"
    assert "dry-run: file.0: 3 records" in result.stderr
    assert "dry-run: screen: 3 records" in result.stderr


def test_check_reports_every_error_with_file_and_line(tmp_path, write):
    conf = write(
        "fluent-bit.conf",
        """\
[INPUT]
    Name          dummy
    Mem_Buf_Limit lots
    Rat           5

[OUTPUT]
    Name     stdout
    Match    *
    Match    again
""",
    )
    result = shipper("check", "-c", str(conf))
    assert result.returncode == 2
    err = result.stderr
    assert f"{conf}:3:" in err and "Mem_Buf_Limit" in err
    assert f"{conf}:4:" in err and "did you mean 'rate'" in err
    assert f"{conf}:9:" in err and "set twice" in err


def test_check_names_unsupported_plugins(tmp_path, write):
    conf = write("c.conf", "[INPUT]\n    Name cpu\n[OUTPUT]\n    Name stdout\n    Match *\n")
    result = shipper("check", "-c", str(conf))
    assert result.returncode == 2
    assert "'cpu' exists in Fluent Bit but shipper does not support it" in result.stderr


def test_check_accepts_a_valid_config_and_prints_the_pipeline(tmp_path, write):
    conf = write("c.conf", "[INPUT]\n    Name dummy\n    Tag t\n[OUTPUT]\n    Name stdout\n    Match *\n")
    result = shipper("check", "-c", str(conf))
    assert result.returncode == 0, result.stderr
    assert "dummy.0" in result.stdout and "stdout.0" in result.stdout and "configuration OK" in result.stdout


def test_stdin_to_stdout_json_lines_exits_at_eof(tmp_path, write):
    conf = write(
        "c.conf",
        "[SERVICE]\n    Flush 0.1\n[INPUT]\n    Name stdin\n    Tag in\n"
        "[OUTPUT]\n    Name stdout\n    Match *\n    Format json_lines\n    json_date_key false\n",
    )
    result = shipper("run", "-c", str(conf), input='{"a": 1}\nnot json\n[1700000000.5, {"b": 2}]\n')
    assert result.returncode == 0, result.stderr
    assert [orjson.loads(x) for x in result.stdout.splitlines()] == [{"a": 1}, {"log": "not json"}, {"b": 2}]


def test_plugins_documents_options():
    result = shipper("plugins", "dummy")
    assert result.returncode == 0
    assert "samples" in result.stdout and "records per second" in result.stdout


def test_version():
    result = shipper("--version")
    assert result.stdout.startswith("shipper ")


def test_fluent_bit_style_arguments_are_accepted(tmp_path, write):
    """Helm charts start Fluent Bit as `fluent-bit --workdir=DIR --config=FILE`."""
    write("conf/c.conf", "[INPUT]\n    Name stdin\n[OUTPUT]\n    Name file\n    Match *\n    File out.log\n    Format plain\n")
    result = shipper(f"--workdir={tmp_path}", f"--config={tmp_path}/conf/c.conf", input='{"a":1}\n')
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out.log").read_text() == '{"a":1}\n'


def test_check_rejects_a_bad_retry_limit(write):
    conf = write("c.conf", "[INPUT]\n    Name dummy\n[OUTPUT]\n    Name null\n    Match *\n    Retry_Limit lots\n")
    result = shipper("check", "-c", str(conf))
    assert result.returncode == 2
    assert f"{conf}:6: Retry_Limit" in result.stderr


def test_check_and_plugins_say_an_option_is_accepted_and_ignored(write):
    conf = write(
        "fluent-bit.conf",
        "[INPUT]\n    Name dummy\n[FILTER]\n    Name rewrite_tag\n    Match dummy.*\n"
        "    Rule $message ^(dummy)$ copied false\n    Emitter_Name re_emitted\n[OUTPUT]\n    Name null\n    Match *\n",
    )
    checked = shipper("check", "-c", str(conf))
    assert checked.returncode == 0
    assert f"{conf}:7: [FILTER] rewrite_tag: option 'emitter_name' is accepted and ignored" in checked.stderr
    listed = shipper("plugins", "rewrite_tag")
    assert any(line.split()[:1] == ["emitter_name"] and "accepted and ignored" in line for line in listed.stdout.splitlines())


def test_dry_run_with_now_says_which_time_judged_the_refusals(write, tmp_path):
    conf = write(
        "c.conf",
        "[INPUT]\n    Name dummy\n    Tag t\n    Samples 1\n[OUTPUT]\n    Name cloudwatch_logs\n    Match *\n"
        "    region us-east-1\n    log_group_name g\n    log_stream_name s\n",
    )
    # dummy stamps records with the clock, so as of 2020 they are from the future
    result = shipper("dry-run", "-c", str(conf), "--log-dir", str(tmp_path), "--now", "2020-01-01T00:00:00Z")
    assert result.returncode == 0, result.stderr
    assert "refused 1 as too_new" in result.stderr
    assert "judged by the clock" not in result.stderr
    assert "time windows were judged as of --now 2020-01-01T00:00:00.000000000Z" in result.stderr


def test_a_reader_that_goes_away_ends_the_command_quietly() -> None:
    """`shipper plugins tail | head -1`: no traceback when the pipe closes before shipper writes."""
    child = subprocess.Popen([*SHIPPER, "plugins", "tail"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()  # the reader is gone before the interpreter has even started
    stderr = child.stderr.read()
    assert child.wait(timeout=60) == 141
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr


def test_plugins_suggests_a_name_for_a_misspelt_one():
    result = shipper("plugins", "cloudwatch_log")
    assert result.returncode == 2
    assert "error: no plugin named 'cloudwatch_log' (did you mean 'cloudwatch_logs'?)" in result.stderr
