"""``parser``: parse one field of each record with named parsers (golden cases 16-23).

``Key_Name`` is the field; ``Parser`` (repeatable) names parsers tried in
order, the first that matches wins.  Records without the field, with a
non-string value, or that no parser matches pass unchanged.  The parsed
fields replace the record, unless ``Reserve_Data`` keeps the other original
fields (after the parsed ones; on a clash the original value wins, at its
position in the original order) and ``Preserve_Key`` keeps ``Key_Name`` too.
A parsed time replaces the record's timestamp.  Times that do not parse are
counted in ``shipper_parser_time_errors_total{name=..., parser=...}``; JSON
nested deeper than the outputs can encode stays unparsed, counted in
``shipper_parser_too_deep_records_total``.
"""

from __future__ import annotations

import logging

from shipper.errors import ConfigError
from shipper.events import Event
from shipper.jsonfmt import MAX_PARSED_DEPTH
from shipper.options import Option, Settings, suggest
from shipper.plugin import Context, Filter
from shipper.reasonlog import ReasonLog
from shipper.registry import register

TOO_DEEP_METRIC = "shipper_parser_too_deep_records_total"


@register
class ParserFilter(Filter):
    name = "parser"
    summary = "parse a field of each record with named parsers"
    options = (
        Option("key_name", required=True, help="field to parse"),
        Option("parser", repeatable=True, help="parser name; several are tried in order"),
        Option("preserve_key", "bool", default="off", help="keep Key_Name in the parsed record"),
        Option("reserve_data", "bool", default="off", help="keep the other original fields"),
        Option("unescape_key", "bool", default="off", ignored=True, help="accepted for compatibility (deprecated in Fluent Bit)"),
    )

    def __init__(self, settings: Settings, context: Context) -> None:
        super().__init__(settings, context)
        names = settings["parser"]
        if not names:
            raise ConfigError("parser: at least one Parser is required", settings.location)
        known = context.parsers
        missing = [n for n in names if n not in known]
        if missing:
            raise ConfigError(
                f"parser: unknown parser {missing[0]!r}{suggest(missing[0], known)}"
                " (define it in a [PARSER] section of a Parsers_File)",
                settings.where("parser"),
            )
        self.parsers = [known[n] for n in names]
        self._reasons = ReasonLog(self.log, level=logging.WARNING)
        self.key: str = settings["key_name"]
        self.preserve: bool = settings["preserve_key"]
        self.reserve: bool = settings["reserve_data"]

    async def process(self, tag: str, events: list[Event]) -> list[Event]:
        key, preserve, reserve = self.key, self.preserve, self.reserve
        parses = [p.parse for p in self.parsers]
        errors_before = [(p.time_errors, p.too_deep) for p in self.parsers]
        out: list[Event] = []
        append = out.append
        for event in events:
            record = event[1]
            value = record.get(key)
            if type(value) is not str:
                append(event)
                continue
            for parse in parses:
                result = parse(value)
                if result is not None:
                    break
            else:
                append(event)
                continue
            ts, parsed = result
            if reserve:
                if parsed.keys().isdisjoint(record):
                    parsed.update(record)
                    if not preserve:
                        del parsed[key]
                else:
                    # a clash: the original value wins, at its place among the original keys
                    for k, v in record.items():
                        if k == key and not preserve:
                            continue
                        if k in parsed:
                            del parsed[k]
                        parsed[k] = v
            elif preserve:
                parsed.pop(key, None)
                parsed[key] = value
            append((event[0] if ts is None else ts, parsed))
        for parser, (time_errors, too_deep) in zip(self.parsers, errors_before, strict=True):
            if parser.time_errors != time_errors:
                self.count("shipper_parser_time_errors_total", parser.time_errors - time_errors, parser=parser.name)
            if parser.too_deep != too_deep:
                self.count(TOO_DEEP_METRIC, parser.too_deep - too_deep, parser=parser.name)
                count = parser.too_deep - too_deep
                self._reasons.report(
                    ("too_deep", parser.name), count,
                    f"{count} {key!r} values nest deeper than {MAX_PARSED_DEPTH} levels; "
                    f"left unparsed by parser {parser.name!r} because outputs cannot encode them",
                )
        return out
