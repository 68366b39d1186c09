"""Every parser in config/parsers.conf on real-looking lines (field names as Fluent Bit's docs show them)."""

from __future__ import annotations

import calendar
import time
from pathlib import Path

import pytest

from shipper.config.loader import load_config
from shipper.errors import ConfigError
from shipper.parsers import Parser, build_parsers

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "parsers.conf"
NS = 1_000_000_000


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Parser]:
    main = tmp_path_factory.mktemp("conf") / "fluent-bit.conf"
    main.write_text(
        f"[SERVICE]\n    Parsers_File {SHIPPED}\n[INPUT]\n    Name dummy\n[OUTPUT]\n    Name null\n    Match *\n"
    )
    document = load_config(str(main))
    errors: list[ConfigError] = list(document.errors)
    parsers = build_parsers(document.parsers, errors)
    assert not errors, errors
    return parsers


def utc(*fields: int) -> int:
    return calendar.timegm(fields) * NS


CASES = [
    (
        "docker",
        '{"log":"hello\\n","stream":"stdout","time":"2024-03-05T10:15:30.123456789Z"}',
        utc(2024, 3, 5, 10, 15, 30) + 123_456_789,
        {"log": "hello\n", "stream": "stdout", "time": "2024-03-05T10:15:30.123456789Z"},
    ),
    (
        "cri",
        "2024-03-05T10:15:30.5+00:00 stderr F boom",
        utc(2024, 3, 5, 10, 15, 30) + NS // 2,
        {"time": "2024-03-05T10:15:30.5+00:00", "stream": "stderr", "logtag": "F", "message": "boom"},
    ),
    (
        "json",
        '{"time":"05/Mar/2024:10:15:30 +0000","msg":"x"}',
        utc(2024, 3, 5, 10, 15, 30),
        {"msg": "x"},
    ),
    ("logfmt", 'level=info msg="ok go"', None, {"level": "info", "msg": "ok go"}),
    (
        "apache",
        '1.2.3.4 - frank [05/Mar/2024:10:15:30 +0000] "GET /a HTTP/1.1" 200 12 "-" "curl/8"',
        utc(2024, 3, 5, 10, 15, 30),
        {"host": "1.2.3.4", "user": "frank", "method": "GET", "path": "/a", "code": "200", "size": "12", "referer": "-", "agent": "curl/8"},
    ),
    (
        "apache2",
        '1.2.3.4 - - [05/Mar/2024:10:15:30 +0000] "GET /a HTTP/1.1" 404 0 "-" "agent x"',
        utc(2024, 3, 5, 10, 15, 30),
        {"host": "1.2.3.4", "user": "-", "method": "GET", "path": "/a", "code": "404", "size": "0", "referer": "-", "agent": "agent x"},
    ),
    (
        "apache_error",
        "[Tue Mar 05 10:15:30.123 2024] [core:error] [pid 42] [client 1.2.3.4:5] File does not exist",
        None,
        {"time": "Mar 05 10:15:30.123 2024", "level": "core:error", "pid": "42", "client": "1.2.3.4:5", "message": "File does not exist"},
    ),
    (
        "nginx",
        '10.0.0.2 - - [05/Mar/2024:10:15:30 +0000] "GET /healthz HTTP/1.1" 200 2 "-" "kube-probe/1.29"',
        utc(2024, 3, 5, 10, 15, 30),
        {"remote": "10.0.0.2", "host": "-", "user": "-", "method": "GET", "path": "/healthz", "code": "200", "size": "2", "referer": "-", "agent": "kube-probe/1.29"},
    ),
    (
        "k8s-nginx-ingress",
        '10.0.0.5 - - [05/Mar/2024:10:15:30 +0000] "GET /x HTTP/2.0" 200 5 "-" "ua" 33 0.010 [ns-svc-80] [] 10.1.1.1:80 5 0.009 200 abc123',
        utc(2024, 3, 5, 10, 15, 30),
        {
            "host": "10.0.0.5", "user": "-", "method": "GET", "path": "/x", "code": "200", "size": "5", "referer": "-",
            "agent": "ua", "request_length": "33", "request_time": "0.010", "proxy_upstream_name": "ns-svc-80",
            "upstream_addr": "10.1.1.1:80", "upstream_response_length": "5", "upstream_response_time": "0.009",
            "upstream_status": "200", "reg_id": "abc123",
        },
    ),
    (
        "envoy",
        '[2024-03-05T10:15:30.250Z] "GET /v1 HTTP/1.1" 200 - 0 15 3 2 "10.0.0.9" "curl/8" "rid" "api" "10.2.2.2:8080"',
        utc(2024, 3, 5, 10, 15, 30) + NS // 4,
        {
            "start_time": "2024-03-05T10:15:30.250Z", "method": "GET", "path": "/v1", "protocol": "HTTP/1.1", "code": "200",
            "response_flags": "-", "bytes_received": "0", "bytes_sent": "15", "duration": "3",
            "x_envoy_upstream_service_time": "2", "x_forwarded_for": "10.0.0.9", "user_agent": "curl/8", "request_id": "rid",
            "authority": "api", "upstream_host": "10.2.2.2:8080",
        },
    ),
    (
        "syslog-rfc5424",
        "<165>1 2024-03-05T10:15:30.003Z web01 myapp 1234 ID47 - An application event",
        utc(2024, 3, 5, 10, 15, 30) + 3_000_000,
        {"pri": "165", "time": "2024-03-05T10:15:30.003Z", "host": "web01", "ident": "myapp", "pid": "1234", "msgid": "ID47", "extradata": "-", "message": "An application event"},
    ),
    (
        "syslog-rfc3164",
        "<34>Mar  5 10:15:30 mymachine su[230]: 'su root' failed",
        utc(time.gmtime().tm_year, 3, 5, 10, 15, 30),
        {"pri": "34", "time": "Mar  5 10:15:30", "host": "mymachine", "ident": "su", "pid": "230", "message": "'su root' failed"},
    ),
    (
        "syslog-rfc3164-local",
        "<13>Mar 15 22:14:15 cron: (root) CMD (run-parts)",
        utc(time.gmtime().tm_year, 3, 15, 22, 14, 15),
        {"pri": "13", "time": "Mar 15 22:14:15", "ident": "cron", "message": "(root) CMD (run-parts)"},
    ),
    (
        "mongodb",
        '2024-03-05T10:15:30.456 W COMMAND  [conn5] command test.items find 215ms',
        utc(2024, 3, 5, 10, 15, 30) + 456_000_000,
        {"time": "2024-03-05T10:15:30.456", "severity": "W", "component": "COMMAND", "context": "conn5", "message": "command test.items find", "ms": "215"},
    ),
]


@pytest.mark.parametrize(("name", "line", "ts", "record"), CASES, ids=[c[0] for c in CASES])
def test_shipped_parser(shipped: dict[str, Parser], name: str, line: str, ts: int | None, record: dict) -> None:
    assert shipped[name].parse(line) == (ts, record)


def test_every_shipped_parser_is_tested(shipped: dict[str, Parser]) -> None:
    assert sorted(shipped) == sorted(c[0] for c in CASES)
