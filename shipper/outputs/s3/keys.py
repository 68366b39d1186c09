"""Object keys from ``s3_key_format``, as Fluent Bit builds them.

The format holds strftime directives (UTC, the time of the object's first
record) and four tokens: ``$TAG`` (the whole tag), ``$TAG[n]`` (the n-th part
of the tag split on any of ``s3_key_format_tag_delimiters``, empty parts
skipped, n from 0 to 9), ``$INDEX`` (a sequence number that survives restarts)
and ``$UUID`` (8 random alphanumerics).  The leading ``/`` Fluent Bit requires
is not part of the object key.  With ``use_put_object`` and neither
``$UUID``, ``$INDEX`` nor ``static_file_path``, Fluent Bit appends
``-object`` and 8 random characters so that objects never overwrite each other.

Unlike Fluent Bit, strftime runs on the format only, never on a substituted
tag, so a ``%`` in a tag stays a ``%``.
"""

from __future__ import annotations

import re
import secrets
import string
import time
from dataclasses import dataclass

from shipper.outputs.s3.limits import MAX_KEY_BYTES, MAX_TAG_PARTS

_TOKEN = re.compile(r"\$TAG\[(\d+)\]|\$TAG|\$INDEX|\$UUID")
_DIRECTIVE = re.compile(r"%[EO]?(.)")
#: strftime directives that change every second.
_SECOND_DIRECTIVES = frozenset("STsrcX+")
_ALPHANUMERIC = string.ascii_letters + string.digits


def random_alphanumeric(length: int = 8) -> str:
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


def has_second_directive(fmt: str) -> bool:
    """True when strftime output of ``fmt`` changes every second (``%S``, ``%s``, ``%T``...)."""
    return any(m.group(1) in _SECOND_DIRECTIVES for m in _DIRECTIVE.finditer(fmt.replace("%%", "")))


@dataclass(frozen=True, slots=True)
class KeyFormat:
    """A parsed ``s3_key_format``; :meth:`render` gives one object's key."""

    fmt: str
    delimiters: str = "."
    #: append ``-object`` + random characters (PutObject without a unique token).
    random_suffix: bool = False

    @property
    def has_index(self) -> bool:
        return "$INDEX" in self.fmt

    @property
    def has_uuid(self) -> bool:
        return "$UUID" in self.fmt

    def is_unique(self) -> bool:
        """True when two objects of one tag can never get the same key."""
        return self.has_uuid or self.has_index or self.random_suffix or has_second_directive(self.fmt)

    def tag_part_numbers(self) -> list[int]:
        return [int(m.group(1)) for m in _TOKEN.finditer(self.fmt) if m.group(1) is not None]

    def tag_parts(self, tag: str) -> list[str]:
        """The tag split on any delimiter character, empty parts dropped (strtok)."""
        if not self.delimiters:
            return [tag]
        pattern = "[" + re.escape(self.delimiters) + "]"
        return [part for part in re.split(pattern, tag) if part][:MAX_TAG_PARTS]

    def render(self, tag: str, first_time: int, index: int = 0) -> str:
        """The object key for records of ``tag`` whose first one is at ``first_time`` (epoch seconds)."""
        parts = self.tag_parts(tag)
        when = time.gmtime(first_time)
        out: list[str] = []
        pos = 0
        for match in _TOKEN.finditer(self.fmt):
            out.append(time.strftime(self.fmt[pos : match.start()], when))
            out.append(self._token(match, tag, parts, index))
            pos = match.end()
        out.append(time.strftime(self.fmt[pos:], when))
        key = "".join(out).lstrip("/")
        if self.random_suffix:
            key += "-object" + random_alphanumeric()
        return _truncate(key)

    @staticmethod
    def _token(match: re.Match[str], tag: str, parts: list[str], index: int) -> str:
        text = match.group()
        if match.group(1) is not None:
            n = int(match.group(1))
            return parts[n] if n < len(parts) else text  # Fluent Bit leaves an unknown part as written
        if text == "$TAG":
            return tag
        if text == "$INDEX":
            return str(index)
        return random_alphanumeric()


def _truncate(key: str) -> str:
    """S3 keys are at most 1,024 bytes of UTF-8; Fluent Bit cuts longer ones."""
    data = key.encode("utf-8")
    if len(data) <= MAX_KEY_BYTES:
        return key
    return data[:MAX_KEY_BYTES].decode("utf-8", "ignore")
