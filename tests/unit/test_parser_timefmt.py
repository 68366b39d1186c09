"""Time_Format: Fluent Bit's strptime with %L, %z, %s and Time_Offset (expectations from the docs and golden 16/21/22)."""

from __future__ import annotations

import calendar
import time

import pytest

from shipper.errors import ConfigError
from shipper.parsers.timefmt import TimeFormat, parse_offset

BASE = 1709633730  # 2024-03-05T10:15:30Z
NS = 1_000_000_000


@pytest.mark.parametrize(
    ("fmt", "text", "expected"),
    [
        ("%Y-%m-%dT%H:%M:%S.%L%z", "2024-03-05T10:15:30.123Z", BASE * NS + 123_000_000),
        ("%Y-%m-%dT%H:%M:%S.%L%z", "2024-03-05T10:15:30.123456789Z", BASE * NS + 123_456_789),
        ("%Y-%m-%dT%H:%M:%S.%L%z", "2024-03-05T10:15:30.1Z", BASE * NS + 100_000_000),
        ("%Y-%m-%dT%H:%M:%S.%L%z", "2024-03-05T15:45:30.5+0530", BASE * NS + 500_000_000),
        ("%Y-%m-%dT%H:%M:%S.%L%z", "2024-03-05T02:15:30.25-08:00", BASE * NS + 250_000_000),
        ("%Y-%m-%dT%H:%M:%S.%L%z", "2024-03-05T12:15:30.0+02", BASE * NS),
        ("%Y-%m-%dT%H:%M:%S.%L%z", "2024-03-05T10:15:30Z", None),  # .%L needs a fraction
        ("%Y-%m-%dT%H:%M:%S.%L%z", "not a date", None),
        ("%d/%b/%Y:%H:%M:%S %z", "05/Mar/2024:11:15:30 +0100", BASE * NS),
        ("%d/%B/%Y:%H:%M:%S %z", "05/march/2024:10:15:30 +0000", BASE * NS),
        ("%Y-%m-%d %H:%M:%S,%L", "2024-03-05 10:15:30,5", BASE * NS + 500_000_000),
        ("%s", "1709633730", BASE * NS),
        ("%s", "1709633730.5", BASE * NS),  # text after the format is ignored
        ("%s.%L", "1709633730.123456", BASE * NS + 123_456_000),
        ("%s.%L", "1709633730", None),
        ("%Y-%m-%dT%H:%M:%S", "2024-03-05T10:15:30.123Z", BASE * NS),
        ("%FT%T", "2024-03-05T10:15:30", BASE * NS),
        ("%d/%m/%y %I:%M:%S %p", "05/03/24 10:15:30 AM", BASE * NS),
        ("%d/%m/%y %I:%M:%S %p", "05/03/24 10:15:30 PM", (BASE + 12 * 3600) * NS),
        ("%Y-%m-%d", "2024-13-05", None),
        ("%Y %j", "2024 065", (BASE - (10 * 3600 + 15 * 60 + 30)) * NS),
        ("%a, %d %b %Y %H:%M:%S", "Tue, 05 Mar 2024 10:15:30", BASE * NS),
    ],
)
def test_formats(fmt: str, text: str, expected: int | None) -> None:
    assert TimeFormat(fmt).parse(text) == expected


def test_time_offset_applies_only_without_zone() -> None:
    local = TimeFormat("%Y-%m-%d %H:%M:%S", offset=parse_offset("+0200"))
    assert local.parse("2024-03-05 12:15:30") == BASE * NS
    zoned = TimeFormat("%Y-%m-%dT%H:%M:%S%z", offset=parse_offset("-0700"))
    assert zoned.parse("2024-03-05T10:15:30+0000") == BASE * NS


def test_missing_year_is_the_current_year() -> None:
    year = time.gmtime().tm_year
    expected = calendar.timegm((year, 3, 15, 22, 14, 15)) * NS
    assert TimeFormat("%b %d %H:%M:%S").parse("Mar 15 22:14:15") == expected
    assert TimeFormat("%b %d %H:%M:%S").parse("Mar  5 22:14:15") == expected - 10 * 86400 * NS


def test_cache_gives_the_same_answer_for_each_fraction() -> None:
    fmt = TimeFormat("%Y-%m-%dT%H:%M:%S.%L%z")
    first = [fmt.parse(f"2024-03-05T10:15:30.{n:03d}Z") for n in range(50)]
    again = [fmt.parse(f"2024-03-05T10:15:30.{n:03d}Z") for n in range(50)]
    assert first == again == [BASE * NS + n * 1_000_000 for n in range(50)]


@pytest.mark.parametrize("fmt", ["%Q", "%Y %", "%Y %Y"])
def test_bad_formats_are_config_errors(fmt: str) -> None:
    with pytest.raises(ConfigError):
        TimeFormat(fmt)


@pytest.mark.parametrize(("text", "seconds"), [("+0200", 7200), ("-07:00", -25200), ("+05", 18000)])
def test_parse_offset(text: str, seconds: int) -> None:
    assert parse_offset(text) == seconds


def test_parse_offset_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        parse_offset("two hours")
