"""Multiline parsers: the built-in cri/docker/go/python/java/ruby and ``[MULTILINE_PARSER]``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shipper.config.model import Section
from shipper.errors import ConfigError


def build_multiline_parsers(
    sections: list[Section], parsers: Mapping[str, Any], errors: list[ConfigError]
) -> dict[str, Any]:
    """Built-in multiline parsers plus every ``[MULTILINE_PARSER]`` section."""
    return {}
