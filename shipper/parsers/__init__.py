"""Named parsers from ``[PARSER]`` sections: json, regex, logfmt, ltsv.

NOTE FOR CALLERS (tail ``Parser``, the parser filter, kubernetes ``Merge_Parser``
and annotation parsers, multiline ``parser``):

- ``build_parsers(sections, errors) -> dict[str, Parser]`` builds every
  ``[PARSER]`` once per pipeline (``context.parsers``); errors are appended
  with file:line and name the parser.
- ``parser.parse(text: str | bytes) -> (time_ns | None, record) | None``:
  None means "does not match" (keep the original record); ``time_ns`` is None
  when the record has no parsed time (no ``Time_Format``, no time key, or a
  time that did not parse) — the caller then keeps its own timestamp (the
  parser filter) or uses now.  The returned record is a new dict the caller
  owns.
- ``parser.parse_lines(lines) -> list[result]`` is the same over a batch.
- ``parser.time_errors`` counts unparseable times; report its growth as the
  ``shipper_parser_time_errors_total`` metric (the parser filter does).
- ``parser.name``, ``parser.format`` (``json``/``regex``/``logfmt``/``ltsv``),
  ``parser.time_key``, ``parser.time_keep`` and, for regex, ``parser.regex``
  (the compiled Python pattern) are public.

Regexes are Fluent Bit's Onigmo syntax, translated by
:mod:`shipper.parsers.onigmo`; times use :mod:`shipper.parsers.timefmt`.
"""

from __future__ import annotations

import logging

from shipper.config.model import Section
from shipper.errors import ConfigError
from shipper.options import Option, resolve
from shipper.parsers.base import Parser
from shipper.parsers.decoders import parse_rule
from shipper.parsers.json_parser import JsonParser
from shipper.parsers.logfmt import LogfmtParser
from shipper.parsers.ltsv import LtsvParser
from shipper.parsers.onigmo import RegexError
from shipper.parsers.regex_parser import RegexParser
from shipper.parsers.timefmt import TimeFormat, parse_offset
from shipper.parsers.types import parse_types

__all__ = ["PARSER_OPTIONS", "Parser", "build_parser", "build_parsers"]

log = logging.getLogger("shipper.parser")

PARSER_OPTIONS = (
    Option("name", required=True, help="name filters and inputs refer to"),
    Option("format", required=True, choices=("json", "regex", "logfmt", "ltsv"), help="parser kind"),
    Option("regex", help="Onigmo/Ruby regex with named groups (Format regex), optionally /re/imx"),
    Option("time_key", default="time", help="field holding the record time"),
    Option("time_format", help="strptime format of the time field, plus %L (fraction) and %z"),
    Option("time_keep", "bool", default="off", help="keep the time field in the record"),
    Option("time_offset", help="offset of times without %z, e.g. +0200"),
    Option("time_strict", "bool", default="on", ignored=True, help="accepted for compatibility; text after the format is ignored"),
    Option("time_system_timezone", "bool", default="off", help="times without %z are in the local timezone"),
    Option("types", help="KEY:TYPE ... with integer, float, bool, hex, string"),
    Option("decode_field", repeatable=True, help="TYPE KEY [try_next|do_next]: decode and merge a map"),
    Option("decode_field_as", repeatable=True, help="TYPE KEY [try_next|do_next]: decode and replace"),
    Option("skip_empty_values", "bool", default="on", help="drop empty captures (regex)"),
    Option("logfmt_no_bare_keys", "bool", default="off", help="a bare key makes the logfmt line fail"),
)


def build_parser(section: Section, errors: list[ConfigError]) -> Parser | None:
    """One ``[PARSER]`` section -> Parser, or None with the problems appended to ``errors``."""
    name = (section.get("name") or "").strip()
    what = f"[PARSER] {name}" if name else "[PARSER]"
    before = len(errors)
    settings = resolve(PARSER_OPTIONS, section.properties, section.location, what, name, errors)
    if len(errors) > before:
        return None
    fmt = settings["format"].lower()
    try:
        time_format = None
        if settings.get("time_format"):
            offset = parse_offset(settings["time_offset"]) if settings.get("time_offset") else 0
            time_format = TimeFormat(settings["time_format"], offset, settings["time_system_timezone"])
        common = dict(
            time_key=settings["time_key"],
            time_format=time_format,
            time_keep=settings["time_keep"],
            types=parse_types(settings["types"]) if settings.get("types") else None,
            decoders=[parse_rule(v, replace=False) for v in settings["decode_field"]]
            + [parse_rule(v, replace=True) for v in settings["decode_field_as"]],
            skip_empty=settings["skip_empty_values"],
        )
        if fmt == "regex":
            if not settings.get("regex"):
                raise ConfigError("Format regex needs a Regex", section.location)
            try:
                return RegexParser(name, settings["regex"], **common)
            except RegexError as exc:
                raise ConfigError(f"Regex: {exc}", settings.where("regex")) from None
        if fmt == "json" and common["types"]:
            # Fluent Bit casts only regex, logfmt and ltsv captures; JSON values keep their JSON types.
            log.warning("%s: Types does not apply to Format json (as in Fluent Bit); ignored", what)
            common["types"] = None
        if fmt == "logfmt":
            return LogfmtParser(name, no_bare_keys=settings["logfmt_no_bare_keys"], **common)
        return {"json": JsonParser, "ltsv": LtsvParser}[fmt](name, **common)
    except ConfigError as exc:
        errors.append(ConfigError(f"{what}: {exc.message}", exc.location or section.location))
    except ValueError as exc:
        errors.append(ConfigError(f"{what}: {exc}", settings.where("time_offset")))
    return None


def build_parsers(sections: list[Section], errors: list[ConfigError]) -> dict[str, Parser]:
    """Build every ``[PARSER]``; problems are appended to ``errors`` with file:line.

    Like Fluent Bit, the first definition of a name wins; a later one is
    ignored with a warning.
    """
    parsers: dict[str, Parser] = {}
    for section in sections:
        parser = build_parser(section, errors)
        if parser is None:
            continue
        if parser.name in parsers:
            log.warning("%s: parser %r is already defined; this definition is ignored", section.location, parser.name)
            continue
        parsers[parser.name] = parser
    return parsers
