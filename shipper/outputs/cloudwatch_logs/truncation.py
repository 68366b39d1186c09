"""Cut a CloudWatch Logs message to the event size limit, keeping JSON valid.

An event over the limit must be cut (the service rejects the whole request
otherwise).  Cutting the text at a byte position breaks a JSON message, and
with it every metric filter and Logs Insights query on it.  So a message that
is a JSON object or array is cut inside its longest string values instead,
each cut marked ``…[truncated N bytes]`` (N counted in the JSON text); the
rest of the text is kept byte for byte.  Other messages are cut at a
character boundary, as Fluent Bit does.

The JSON text is worked on as UTF-8 bytes: a cut never splits a character or
an escape sequence (``\\"``, ``\\uXXXX``, or a ``\\uD8xx\\uDCxx`` surrogate pair).
"""

from __future__ import annotations

import re

import orjson

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_HIGH_SURROGATE = re.compile(rb"\\u[dD][89abAB][0-9a-fA-F]{2}$")
#: the marker goes inside a JSON string, so its ellipsis is written as an escape.
_MARKER = "\\u2026[truncated {} bytes]"
_BACKSLASH = 0x5C


def truncate_utf8(message: str, limit: int) -> str:
    """``message`` cut to at most ``limit`` UTF-8 bytes, never inside a character."""
    return message.encode("utf-8")[:limit].decode("utf-8", "ignore")


#: how :func:`truncate_message` cut: inside JSON strings, as plain text, or JSON as plain text (no room in its strings).
JSON, TEXT, JSON_AS_TEXT = "json", "text", "json_as_text"


def truncate_message(message: str, limit: int) -> tuple[str, str]:
    """``message`` cut to at most ``limit`` UTF-8 bytes, and how (:data:`JSON`, :data:`TEXT` or :data:`JSON_AS_TEXT`)."""
    if message.lstrip()[:1] in ("{", "["):
        data = message.encode("utf-8")
        try:
            orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
        else:
            cut = _truncate_json(data, limit)
            return (cut, JSON) if cut is not None else (truncate_utf8(message, limit), JSON_AS_TEXT)
    return truncate_utf8(message, limit), TEXT


def _truncate_json(data: bytes, limit: int) -> str | None:
    """``data`` (valid JSON) cut inside its longest strings; None when they cannot free enough bytes."""
    excess = len(data) - limit
    marker_room = len(_MARKER.format(len(data)))
    strings = sorted(_STRING.finditer(data), key=lambda m: m.end() - m.start(), reverse=True)
    cuts: list[tuple[int, int]] = []  # (content start kept up to, content end) per cut string
    for match in strings:
        if excess <= 0:
            break
        start, end = match.start() + 1, match.end() - 1  # the content, between the quotes
        if end - start <= marker_room:
            break  # the rest are shorter: cutting them frees nothing
        keep = _safe_cut(data, start, max(start, end - excess - marker_room))
        cuts.append((keep, end))
        excess -= (end - keep) - marker_room
    if excess > 0:
        return None
    out = bytearray()
    position = 0
    for keep, end in sorted(cuts):
        out += data[position:keep] + _MARKER.format(end - keep).encode("ascii")
        position = end
    out += data[position:]
    return out.decode("utf-8")


def _safe_cut(data: bytes, start: int, pos: int) -> int:
    """The largest cut position <= ``pos`` (and >= ``start``) that splits no character and no escape."""
    while pos > start and data[pos] & 0xC0 == 0x80:  # a UTF-8 continuation byte
        pos -= 1
    for index in range(pos - 1, max(start - 1, pos - 6), -1):
        if data[index] != _BACKSLASH:
            continue
        run = 0
        while index - 1 - run >= start and data[index - 1 - run] == _BACKSLASH:
            run += 1
        if run % 2:  # the second half of an escaped backslash: that escape ends before pos
            break
        length = 6 if data[index + 1 : index + 2] == b"u" else 2
        if index + length > pos:
            pos = index
        break
    if _HIGH_SURROGATE.search(data, max(start, pos - 6), pos):
        pos -= 6  # do not leave the first half of a surrogate pair alone
    return pos
