"""Named parsers from ``[PARSER]`` sections: json, regex, logfmt, ltsv."""

from __future__ import annotations

from typing import Any

from shipper.config.model import Section
from shipper.errors import ConfigError


def build_parsers(sections: list[Section], errors: list[ConfigError]) -> dict[str, Any]:
    """Build every ``[PARSER]``; problems are appended to ``errors`` with file:line."""
    return {}
