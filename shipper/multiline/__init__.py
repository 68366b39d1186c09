"""Multiline parsers: the built-in cri/docker/go/python/java/ruby and ``[MULTILINE_PARSER]``.

:func:`build_multiline_parsers` validates the sections (``shipper check``
reports every problem with its line) and returns parser definitions by
name; :func:`new_chain` gives one stream (a tail file, a filter tag) its
own decoding state for a list of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from shipper.config.model import Section
from shipper.errors import ConfigError
from shipper.events import Event
from shipper.multiline.builtin import builtin_parsers, make_rule
from shipper.multiline.container import CriDecoder, DockerDecoder
from shipper.multiline.decoder import Decoder, DecoderChain
from shipper.multiline.definition import DEFAULT_FLUSH_MS, MultilineParser
from shipper.multiline.groups import RuleDecoder
from shipper.options import Option, parse_bool, parse_int, resolve
from shipper.parsers.onigmo import RegexError

__all__ = ["DecoderChain", "MultilineParser", "build_multiline_parsers", "new_chain", "new_decoder"]

SECTION_OPTIONS = (
    Option("name", required=True, help="name tail and the multiline filter refer to"),
    Option("type", default="regex", choices=("regex", "endswith", "equal", "eq"), help="how lines are grouped"),
    Option("parser", help="[PARSER] applied to each line before grouping"),
    Option("key_content", help="key holding the text to match and join"),
    Option("key_pattern", help="key compared with match_string (type equal)"),
    Option("key_group", help="key whose value separates groups (e.g. stream)"),
    Option("flush_timeout", default=str(DEFAULT_FLUSH_MS), help="ms a group waits for more lines"),
    Option("match_string", help="text a line ends with (endswith) or equals (equal)"),
    Option("negate", default="false", help="invert the endswith/equal match"),
    Option("rule", repeatable=True, help='"from_states" "/regex/" "to_state"'),
)

_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|(\S+)')


def rule_tokens(value: str) -> list[str]:
    """Split a ``rule`` value into its quoted parts, keeping regex backslashes as written."""
    return [(quoted if quoted or not bare else bare).replace('\\"', '"') for quoted, bare in _TOKEN.findall(value)]


def _build_one(section: Section, parsers: Mapping[str, Any], errors: list[ConfigError]) -> MultilineParser | None:
    before = len(errors)
    settings = resolve(SECTION_OPTIONS, section.properties, section.location, "[MULTILINE_PARSER]", errors=errors)
    if len(errors) > before:
        return None
    name = settings["name"].strip()
    kind = {"eq": "equal"}.get(settings["type"].lower(), settings["type"].lower())
    try:
        flush_ms = parse_int(settings["flush_timeout"])
        negate = parse_bool(settings["negate"])
    except ValueError as exc:
        errors.append(ConfigError(f"[MULTILINE_PARSER] {name}: {exc}", section.location))
        return None
    rules = []
    for prop in settings.ordered(["rule"]):
        parts = rule_tokens(prop.value)
        if len(parts) != 3:
            errors.append(ConfigError(f'[MULTILINE_PARSER] {name}: rule needs "from_states" "/regex/" "to_state", '
                                      f"got {prop.value!r}", prop.location))
            continue
        try:
            rules.append(make_rule(*parts))
        except RegexError as exc:
            errors.append(ConfigError(f"[MULTILINE_PARSER] {name}: invalid rule regex {parts[1]!r}: {exc}",
                                      prop.location))
    parser_name = settings.get("parser")
    parser = None
    if parser_name:
        parser = parsers.get(parser_name)
        if parser is None:
            errors.append(ConfigError(f"[MULTILINE_PARSER] {name}: parser {parser_name!r} is not defined",
                                      settings.where("parser")))
    definition = MultilineParser(
        name=name, type=kind, rules=tuple(rules), flush_ms=flush_ms, key_content=settings.get("key_content"),
        key_group=settings.get("key_group"), key_pattern=settings.get("key_pattern"),
        match_str=settings.get("match_string") or "", negate=negate, parser=parser,
    )
    if kind == "regex":
        if not definition.start_rules:
            errors.append(ConfigError(f"[MULTILINE_PARSER] {name}: type regex needs a rule from 'start_state'",
                                      section.location))
        for state in definition.unknown_states():
            errors.append(ConfigError(f"[MULTILINE_PARSER] {name}: to_state {state!r} is not the from-state of "
                                      "any rule", section.location))
    elif not definition.match_str:
        errors.append(ConfigError(f"[MULTILINE_PARSER] {name}: type {kind} needs match_string", section.location))
    return definition


def build_multiline_parsers(
    sections: list[Section], parsers: Mapping[str, Any], errors: list[ConfigError]
) -> dict[str, Any]:
    """Built-in multiline parsers plus every ``[MULTILINE_PARSER]`` section."""
    result: dict[str, Any] = builtin_parsers()
    for section in sections:
        definition = _build_one(section, parsers, errors)
        if definition is not None:
            result[definition.name] = definition
    return result


def new_decoder(parser: MultilineParser, key: str, text_mode: bool) -> Decoder:
    """Fresh per-stream state for one parser (cri/docker only decode raw lines)."""
    if parser.type == "cri":
        return CriDecoder(parser)
    if parser.type == "docker":
        return DockerDecoder(parser)
    return RuleDecoder(parser, key, text_mode)


def new_chain(
    parsers: list[MultilineParser], key: str, text_mode: bool, standalone: Callable[[Any, int], Event]
) -> DecoderChain:
    """Per-stream state for a ``multiline.parser`` list."""
    return DecoderChain([new_decoder(p, key, text_mode) for p in parsers], standalone)
