"""Tags of tailed files, the way Fluent Bit makes them.

``Tag kube.*`` replaces ``*`` with the file's path with ``/`` (and ``\\``,
``:``) turned into ``.``, the leading dot dropped and runs of dots
collapsed.  With ``Tag_Regex`` the named captures fill ``<name>``
placeholders (an unknown name gives ``_``), and a path the regex does not
match is not read at all.
"""

from __future__ import annotations

import re

from shipper.parsers.onigmo import compile_onigmo

_DOTS = re.compile(r"\.{2,}")
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_]+)>")


def path_to_tag_part(path: str) -> str:
    """``/var/log/a.log`` -> ``var.log.a.log``."""
    dotted = path.replace("/", ".").replace("\\", ".").replace(":", ".")
    return _DOTS.sub(".", dotted).lstrip(".")


class TagMaker:
    """Computes a file's tag from the input's ``Tag`` and ``Tag_Regex``."""

    def __init__(self, tag: str, tag_regex: str | None) -> None:
        self.tag = tag
        self.regex = compile_onigmo(tag_regex, delimited=False) if tag_regex else None

    def tag_for(self, path: str) -> str | None:
        """The tag for a file, or None when ``Tag_Regex`` does not match its path."""
        if self.regex is not None:
            match = self.regex.search(path)
            if match is None:
                return None
            groups = match.groupdict()
            return _PLACEHOLDER.sub(lambda m: groups.get(m.group(1)) or "_", self.tag)
        if "*" in self.tag:
            return self.tag.replace("*", path_to_tag_part(path))
        return self.tag
