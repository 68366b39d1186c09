"""Lines written to objects: the same JSON as the other outputs' json_lines, and compressed blocks."""

from __future__ import annotations

import gzip

import pytest

from shipper.outputs.formats import DATE_FORMATS, json_line
from shipper.outputs.s3.request import LineFormat, compressor, content_md5
from shipper.packed import Packed

T0 = 1_700_000_000 * 1_000_000_000 + 123_456_789
RECORDS = [{"a": 1}, {}, {"date": "the record's own", "b": [1, 2]}, {"é": "ü\u2028", "x": 1.5}]


@pytest.mark.parametrize("fmt", DATE_FORMATS)
def test_dated_lines_match_json_lines(fmt: str) -> None:
    lines = LineFormat("date", fmt).encode([(T0 + i, r) for i, r in enumerate(RECORDS)])[0]
    assert lines.decode().splitlines() == [json_line((T0 + i, r), "date", fmt) for i, r in enumerate(RECORDS)]


def test_without_a_date_key_the_record_is_written_as_it_is() -> None:
    assert LineFormat(None).encode([(T0, {"a": 1})]) == (b'{"a":1}\n', 0)


def test_a_date_key_needing_escapes() -> None:
    assert LineFormat('ti"me').encode([(T0, {})])[0] == b'{"ti\\"me":"2023-11-14T22:13:20.123456Z"}\n'


def test_gzip_blocks_concatenate_into_one_stream() -> None:
    gz = compressor("gzip")
    assert gz is not None
    assert gzip.decompress(gz(b"one\n") + gz(b"two\n")) == b"one\ntwo\n"


def test_content_md5_is_base64_of_the_digest() -> None:
    assert content_md5(b"") == "1B2M2Y8AsgTpgAmY7PhCfg=="


@pytest.mark.parametrize("fmt", DATE_FORMATS)
def test_packed_json_gets_the_same_lines_without_being_decoded(fmt: str) -> None:
    records = [*RECORDS, {"nested": {"date": 1}}, {"msg": 'a "date": inside'}]
    events = [(T0 + i, r) for i, r in enumerate(records)]
    times, body = Packed.encode(events).json_lines()
    line_format = LineFormat("date", fmt)
    assert line_format.json_lines(times, body) == line_format.encode(events)[0]
    assert LineFormat(None).json_lines(times, body) == LineFormat(None).encode(events)[0]
