"""``shipper check`` never echoes what it should not: an included file that is not a config, ``${VAR}`` values.

A config may ``@INCLUDE`` any file the shipper can read (``/etc/shadow``,
``/proc/self/environ``), and its errors end up in CI logs; an option set
from ``${SECRET}`` may be wrong.  So: a file that does not look like a
Fluent Bit config is reported once, by name and line number, without its
contents; a file with NUL bytes is not read; and any value that came from a
variable appears in a message as ``${NAME}``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from shipper.cli import main

SHADOW = "root:$6$SALTSALT$SECRETHASHSECRETHASH:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\nbin:*:19000::::\n"
PIPELINE = "[INPUT]\n    Name dummy\n    Tag t\n[OUTPUT]\n    Name stdout\n    Match *\n"


def check(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["check", "-c", str(config)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_an_included_file_that_is_not_a_config_is_named_not_echoed(tmp_path: Path, capsys) -> None:
    secret = tmp_path / "shadow"
    secret.write_text(SHADOW)
    config = tmp_path / "shipper.conf"
    config.write_text(f"@INCLUDE {secret}\n{PIPELINE}")
    code, output = check(config, capsys)
    assert code != 0
    assert "SECRETHASH" not in output and "daemon" not in output and "root:" not in output
    assert f"{secret}:1:" in output and "does not look like a Fluent Bit configuration" in output
    assert output.count(str(secret)) == 1  # one message for the file, not one per line


def test_an_included_file_with_nul_bytes_is_not_read(tmp_path: Path, capsys) -> None:
    environ = tmp_path / "environ"
    environ.write_bytes(b"API_KEY=sk-live-0123456789\x00HOME=/root\x00")
    config = tmp_path / "shipper.conf"
    config.write_text(f"@INCLUDE {environ}\n{PIPELINE}")
    code, output = check(config, capsys)
    assert code != 0
    assert "sk-live" not in output and "HOME" not in output
    assert "NUL" in output


def test_a_bad_value_from_a_variable_is_shown_as_the_variable(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("DB_PASSWORD", "hunter2-topsecret")
    config = tmp_path / "shipper.conf"
    config.write_text("[INPUT]\n    Name dummy\n    Tag t\n    Rate ${DB_PASSWORD}\n[OUTPUT]\n    Name stdout\n    Match *\n")
    code, output = check(config, capsys)
    assert code != 0
    assert "hunter2" not in output
    assert "${DB_PASSWORD}" in output and "Rate" in output


def test_a_set_variable_in_an_error_is_shown_as_the_variable(tmp_path: Path, capsys) -> None:
    config = tmp_path / "shipper.conf"
    config.write_text("@SET TOKEN_VALUE=abcdef-secret-token\n[INPUT]\n    Name dummy\n    Tag t\n"
                      "    Rate ${TOKEN_VALUE}\n[OUTPUT]\n    Name stdout\n    Match *\n")
    code, output = check(config, capsys)
    assert code != 0
    assert "abcdef-secret-token" not in output and "${TOKEN_VALUE}" in output
