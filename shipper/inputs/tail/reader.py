"""One tailed file: its open handle, read position and line splitting.

Reads are ``Buffer_Chunk_Size`` bytes, positional (``os.pread``) and split with
``bytes.rfind``/``str.split``: one decode and one split per batch, never a
call per line.  Only complete lines are consumed; the bytes after the last
newline wait in ``partial`` until their newline arrives.

Invalid UTF-8 becomes U+FFFD (``errors="replace"``) so a bad byte never
stops a file.  A trailing ``\\r`` is removed, as Fluent Bit does.  A line
longer than ``Buffer_Max_Size`` is skipped (and counted), and the file goes
on; Fluent Bit instead stops reading the file when ``Skip_Long_Lines`` is
off.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from shipper.inputs.acks import AckWindow
from shipper.inputs.tail.offsets import Left
from shipper.multiline import DecoderChain

#: bytes remembered before the read position to notice a truncated-and-regrown file.
_TAIL_CHECK = 16
#: bytes remembered at the start of the file, for the same purpose.
_HEAD_CHECK = 64


@dataclass(slots=True)
class LinesRead:
    """Complete lines read in one go, and the byte range they came from."""

    lines: list[str]
    start: int
    end: int
    #: byte offset of each line's start, only when ``Offset_Key`` asks for it.
    offsets: list[int] | None = None
    #: lines dropped for being longer than ``Buffer_Max_Size``.
    long_lines: int = 0


@dataclass(eq=False)
class TailFile:
    """State of one open file; identity is the (device, inode) it was opened as."""

    real: str
    shown: str
    tag: str
    fd: int
    dev: int
    ino: int
    offset: int = 0
    partial: bytes = b""
    chain: DecoderChain | None = None
    window: AckWindow = field(default_factory=lambda: AckWindow(0))
    #: offset of the batch where the oldest pending multiline group began.
    pending_since: int | None = None
    rotated_at: float | None = None
    at_eof: bool = False
    skipping: bool = False
    skip_nuls: bool = False
    tail: bytes = b""
    head: bytes = b""
    #: (size, mtime_ns) when the file was last looked at.
    signature: tuple[int, int] = (-1, -1)
    #: set while the file is closed to free its descriptor (handles.py): where it was left, and its identity.
    parked: Left | None = None

    @property
    def read_pos(self) -> int:
        return self.offset + len(self.partial)

    @property
    def key(self) -> tuple[int, int]:
        return self.dev, self.ino

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def changed(self) -> bool:
        """Whether the file may hold something new since we last read it to its end.

        One ``fstat``: size and modification time unchanged means nothing was
        written, so an idle file costs a single system call per round.
        """
        st = os.fstat(self.fd)
        signature = (st.st_size, st.st_mtime_ns)
        if signature == self.signature and self.at_eof:
            return False
        self.signature = signature
        return True

    def quiet(self) -> bool:
        """Read to its end and nothing written since (a pending multiline group may time out)."""
        st = os.fstat(self.fd)
        return self.at_eof and (st.st_size, st.st_mtime_ns) == self.signature

    def truncated(self) -> bool:
        """Whether the file shrank below our position, or was cut and regrown past it.

        A regrown file is told by its first bytes or by the bytes just before
        our position no longer being the ones we read.  Call after :meth:`changed`.
        """
        pos = self.read_pos
        if self.signature[0] < pos:
            return True
        if pos == 0:
            return False
        if self.head and os.pread(self.fd, len(self.head), 0) != self.head:
            return True
        if self.tail and pos >= len(self.tail):
            return os.pread(self.fd, len(self.tail), pos - len(self.tail)) != self.tail
        return False

    def restart(self) -> None:
        """Read again from 0 (after copytruncate); leading NULs of a sparse regrow are skipped."""
        self.offset = 0
        self.partial = b""
        self.tail = b""
        self.head = b""
        self.skipping = False
        self.skip_nuls = True
        self.window.reset(0)

    def read(self, size: int, max_line: int, want_offsets: bool = False, skip_empty: bool = False) -> LinesRead | None:
        """Read up to ``size`` new bytes; None at EOF.  A batch may hold no line (a long line in progress)."""
        pos = self.read_pos
        data = os.pread(self.fd, size, pos)
        if not data:
            self.at_eof = True
            return None
        # a short read reached the end as it was: no need for another read to find out
        self.at_eof = len(data) < size
        if not self.head:
            # remembered with the data it belongs to, so a later rewrite of the start is noticed
            self.head = data[:_HEAD_CHECK] if pos == 0 else os.pread(self.fd, min(_HEAD_CHECK, pos), 0)
        self.tail = (self.tail + data[-_TAIL_CHECK:])[-_TAIL_CHECK:]
        start = self.offset
        if self.skip_nuls:
            stripped = data.lstrip(b"\0")
            self.offset += len(data) - len(stripped)
            start = self.offset
            data = stripped
            if not data:
                return LinesRead([], start, start)
            self.skip_nuls = False
        buf = self.partial + data if self.partial else data
        cut = buf.rfind(b"\n") + 1
        long_lines = 0
        if cut == 0:
            self.partial = buf
            if len(buf) > max_line or self.skipping:
                # a line too long for the buffer: drop what we have and the rest up to its newline
                long_lines = 0 if self.skipping else 1
                self.skipping = True
                self.offset += len(buf)
                self.partial = b""
            return LinesRead([], start, self.offset, [] if want_offsets else None, long_lines)
        complete = buf[:cut]
        self.partial = buf[cut:]
        first = 0
        if self.skipping:
            first = complete.find(b"\n") + 1
            self.skipping = False
        self.offset += cut
        end = self.offset
        if want_offsets:
            return self._slow_split(complete, first, start, end, max_line, want_offsets, skip_empty)
        text = complete[first:].decode("utf-8", "replace") if first else complete.decode("utf-8", "replace")
        lines = text.split("\n")
        lines.pop()
        if len(text) > max_line and max(map(len, lines)) > max_line:
            return self._slow_split(complete, first, start, end, max_line, want_offsets, skip_empty)
        if "\r" in text:
            lines = [line.removesuffix("\r") for line in lines]
        if skip_empty and "" in lines:
            lines = [line for line in lines if line]
        return LinesRead(lines, start, end)

    @staticmethod
    def _slow_split(
        complete: bytes, first: int, start: int, end: int, max_line: int, want_offsets: bool, skip_empty: bool
    ) -> LinesRead:
        """Line by line, for Offset_Key and for batches that may hold an over-long line."""
        lines: list[str] = []
        offsets: list[int] = []
        long_lines = 0
        position = start + first
        raw_lines = complete[first:].split(b"\n")
        raw_lines.pop()
        for raw in raw_lines:
            line_start = position
            position += len(raw) + 1
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            if len(raw) > max_line:
                long_lines += 1
                continue
            if skip_empty and not raw:
                continue
            lines.append(raw.decode("utf-8", "replace"))
            offsets.append(line_start)
        return LinesRead(lines, start, end, offsets if want_offsets else None, long_lines)
