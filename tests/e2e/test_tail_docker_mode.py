"""tail's legacy Docker_Mode through the real CLI, as the Container Insights DaemonSet configures it.

Fluent Bit joins the json-file pieces (and, with Docker_Mode_Parser, the lines that do not start a
record), then hands the joined line to the input's Parser: with the usual ``docker`` parser the
record loses ``time`` and takes the last piece's time.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import shipper

PARSERS = r"""
[PARSER]
    Name        docker
    Format      json
    Time_Key    time
    Time_Format %Y-%m-%dT%H:%M:%S.%LZ

[PARSER]
    Name        starts_unindented
    Format      regex
    Regex       "log":"[^ ]
"""

CONFIG = """
[SERVICE]
    Parsers_File parsers.conf

[INPUT]
    Name              tail
    Tag               app.*
    Path              /var/log/containers/*.log
    Docker_Mode       On
    Docker_Mode_Flush 5
    Parser            docker
{extra}
[OUTPUT]
    Name   stdout
    Match  *
    Format json_lines
"""


def piece(text: str, second: int, stream: str = "stderr") -> str:
    record = {"log": text, "stream": stream, "time": f"2026-11-20T10:15:{second:02d}.000000000Z"}
    return json.dumps(record, separators=(",", ":")) + "\n"  # as docker's json-file driver writes it


LOG = "".join(
    [
        piece("Exception in thread main java.lang.IllegalStateException: boom\n", 1),
        piece("    at com.example.App.run(App.java:12)\n", 2),
        piece("    at com.example.App.main(App.java:5)\n", 3),
        piece("a line the runtime split ", 4, "stdout"),
        piece("in two\n", 5, "stdout"),
        "not a json-file line\n",
        piece("last\n", 6, "stdout"),
    ]
)


def dry_run(tmp_path: Path, extra: str) -> list[tuple[str, dict]]:
    (tmp_path / "parsers.conf").write_text(PARSERS)
    (tmp_path / "fluent-bit.conf").write_text(CONFIG.format(extra=extra))
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "app.log").write_text(LOG)
    result = shipper("dry-run", "-c", str(tmp_path / "fluent-bit.conf"), "--log-dir", str(tmp_path / "logs"))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    # stdout's json_lines adds the event time as "date"; the row's "time" says it already
    return [(row["time"], {k: v for k, v in json.loads(row["payload"]).items() if k != "date"}) for row in rows]


def test_docker_mode_parser_joins_lines_that_do_not_start_a_record(tmp_path: Path) -> None:
    rows = dry_run(tmp_path, "    Docker_Mode_Parser starts_unindented\n")
    trace = "".join(json.loads(line)["log"] for line in LOG.splitlines()[:3])
    assert [record for _, record in rows[:2]] == [
        {"log": trace, "stream": "stderr"},  # the parser took "time" away, as Fluent Bit's does
        {"log": "a line the runtime split in two\n", "stream": "stdout"},
    ]
    assert [when for when, _ in rows[:2]] == ["2026-11-20T10:15:03.000000000Z", "2026-11-20T10:15:05.000000000Z"]
    assert rows[2][1] == {"log": "not a json-file line"}  # goes out alone, read now
    assert rows[3] == ("2026-11-20T10:15:06.000000000Z", {"log": "last\n", "stream": "stdout"})  # flushed at EOF
    assert len(rows) == 4


def test_without_docker_mode_parser_only_split_lines_are_joined(tmp_path: Path) -> None:
    rows = dry_run(tmp_path, "")
    assert [record["log"] for _, record in rows] == [
        "Exception in thread main java.lang.IllegalStateException: boom\n",
        "    at com.example.App.run(App.java:12)\n",
        "    at com.example.App.main(App.java:5)\n",
        "a line the runtime split in two\n",
        "not a json-file line",
        "last\n",
    ]
    assert all("time" not in record for _, record in rows)
