"""Tag matching: Fluent Bit's ``Match`` globs and ``Match_Regex``."""

from __future__ import annotations

import re
from collections.abc import Callable


def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """Fluent Bit's Match: only ``*`` is special, and it matches dots too."""
    return re.compile("^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$", re.DOTALL)


def matcher(match: str | None, match_regex: str | None) -> Callable[[str], bool]:
    """A predicate over tags; ``Match_Regex`` (anchored at the start) wins over ``Match``.

    Neither set matches nothing, as in Fluent Bit (which warns about it).
    """
    if match_regex:
        regex = re.compile(match_regex)
        return lambda tag: regex.match(tag) is not None
    if match is None:
        return lambda tag: False
    if match == "*":
        return lambda tag: True
    if "*" not in match:
        return match.__eq__
    compiled = glob_to_regex(match)
    return lambda tag: compiled.match(tag) is not None
