"""What goes into an object: records as JSON lines, compressed, and the upload headers.

Each flush becomes one block of lines appended to the object's buffer.  With
``compression`` the block is compressed on its own: concatenated gzip
members are one valid gzip stream (RFC 1952, section 2.2) and concatenated
zstd frames one valid zstd stream (RFC 8878, section 3), so the object is
a valid compressed file however its bytes are cut into parts, and a part
never has to be recompressed.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import orjson

from shipper import jsonfmt
from shipper.events import Event
from shipper.outputs.formats import date_value

try:  # optional: compression zstd
    import zstandard
except ImportError:  # pragma: no cover - depends on the environment
    zstandard = None  # type: ignore[assignment]

COMPRESSIONS = ("gzip", "zstd")
#: Fluent Bit's other codecs, which shipper does not write.
UNSUPPORTED_COMPRESSIONS = ("snappy", "arrow", "parquet")


def zstd_available() -> bool:
    return zstandard is not None


def compressor(name: str | None) -> Callable[[bytes], bytes] | None:
    """The block compression for ``compression`` (None: blocks are stored as they are)."""
    if name == "gzip":
        return lambda data: gzip.compress(data, compresslevel=6, mtime=0)
    if name == "zstd" and zstandard is not None:
        return zstandard.ZstdCompressor().compress
    return None


class LineFormat:
    """How one record becomes one line: the whole record with its date, or only ``log_key``'s value.

    The date goes first, as Fluent Bit writes it.  Rather than copying every
    record into a new dict, the encoded date member is put in front of the
    encoded record, and the whole-second part of an ISO 8601 date is computed
    once per second.  Records the engine already holds as JSON
    (:meth:`json_lines`) are not decoded at all, unless one may have a member
    named like the date key.
    """

    def __init__(self, date_key: str | None = "date", date_format: str = "iso8601", log_key: str | None = None) -> None:
        self.date_key = date_key
        self.date_format = date_format
        self.log_key = log_key
        self._member = b"{" + jsonfmt.dumps(date_key)[:-1] + b'":' if date_key else b""
        self._second = -1
        self._prefix = b""

    def encode(self, events: list[Event]) -> tuple[bytes, int]:
        """The lines of ``events`` and how many records had no ``log_key`` (left out, as Fluent Bit does)."""
        if self.log_key is not None:
            return self._values(events)
        dumps = jsonfmt.dumps
        if self.date_key is None:
            lines = [dumps(record) for _, record in events]
        else:
            lines = [self._dated(ts, record) for ts, record in events]
        return (b"\n".join(lines) + b"\n" if lines else b""), 0

    def json_lines(self, times: Sequence[int], body: bytes) -> bytes:
        """The lines of records already encoded (a packed batch: JSON joined by newlines), not decoded again."""
        if not body:
            return b""
        if self.date_key is None:
            return body + b"\n"
        probe = self._member[1:]
        lines = [
            self._dated(ts, orjson.loads(line)) if probe in line else self._with_date(ts, line)
            for ts, line in zip(times, body.split(b"\n"), strict=True)
        ]
        return b"\n".join(lines) + b"\n"

    def _dated(self, ts: int, record: dict[str, object]) -> bytes:
        key = self.date_key
        assert key is not None
        if key in record:  # the record's own value wins, in the date's place
            return jsonfmt.dumps({key: date_value(ts, self.date_format), **record})
        return self._with_date(ts, jsonfmt.dumps(record))

    def _with_date(self, ts: int, body: bytes) -> bytes:
        """The date member put in front of a record's JSON (which has no member of that name)."""
        date = self._iso(ts) if self.date_format == "iso8601" else jsonfmt.dumps(date_value(ts, self.date_format))
        return self._member + date + (b"," + body[1:] if len(body) > 2 else b"}")

    def _iso(self, ts: int) -> bytes:
        """``"2024-03-05T07:08:09.123456Z"``: Fluent Bit's iso8601, microseconds, UTC."""
        second, nanos = divmod(ts, 1_000_000_000)
        if second != self._second:
            self._second = second
            self._prefix = time.strftime('"%Y-%m-%dT%H:%M:%S.', time.gmtime(second)).encode()
        return self._prefix + b"%06dZ\"" % (nanos // 1000)

    def _values(self, events: list[Event]) -> tuple[bytes, int]:
        key = self.log_key
        assert key is not None
        lines: list[bytes] = []
        for _, record in events:
            if key not in record:
                continue
            value = record[key]
            lines.append(value.encode("utf-8", "surrogatepass") if type(value) is str else jsonfmt.dumps(value))
        missing = len(events) - len(lines)
        return (b"\n".join(lines) + b"\n" if lines else b""), missing


@dataclass(frozen=True, slots=True)
class ObjectHeaders:
    """Headers every object (or multipart upload) is created with."""

    content_type: str | None = None
    content_encoding: str | None = None
    canned_acl: str | None = None
    storage_class: str | None = None
    send_content_md5: bool = False


def content_md5(body: bytes) -> str:
    """``Content-MD5``: base64 of the body's MD5 digest (required with S3 Object Lock)."""
    return base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode("ascii")
