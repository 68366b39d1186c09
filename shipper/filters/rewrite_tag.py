"""``rewrite_tag``: re-emit records under a new tag built from their content (golden case 30).

``Rule $KEY REGEX NEW_TAG KEEP``: the first rule whose REGEX matches the
string at ``$KEY`` (a record accessor; numbers never match) re-emits the
record under NEW_TAG, a template with ``$TAG``, ``$TAG[n]``, captures
``$0``–``$9`` and record accessors.  Re-emitted records keep their timestamp
and go through the filter chain again from the start under the new tag
(the engine ties them to the original chunk's acknowledgement); ``KEEP
false`` removes the original, ``true`` keeps it (the re-emitted record is a
shallow copy).

A rule whose new tag could match this filter's own ``Match`` would feed its
output back into itself (Fluent Bit loops); shipper rejects it at ``check``.
``Emitter_Name``, ``Emitter_Storage.type`` and ``Emitter_Mem_Buf_Limit`` are
accepted; the engine applies the memory limit to re-emitted data.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from shipper.accessor import Template, compile_accessor, compile_template, split_words
from shipper.errors import ConfigError
from shipper.events import Event
from shipper.options import Option, Settings, parse_bool
from shipper.parsers.onigmo import RegexError, compile_onigmo
from shipper.plugin import Context, Filter
from shipper.registry import register


@dataclass(frozen=True, slots=True)
class RewriteRule:
    get: Any
    search: Any
    template: Template
    keep: bool


def globs_intersect(a: str, b: str) -> bool:
    """Can one string match both ``*``-globs (``*`` matches anything, dots included)?"""

    @functools.cache
    def meet(i: int, j: int) -> bool:
        if i == len(a) and j == len(b):
            return True
        if i < len(a) and a[i] == "*":
            return meet(i + 1, j) or (j < len(b) and meet(i, j + 1))
        if j < len(b) and b[j] == "*":
            return meet(i, j + 1) or (i < len(a) and meet(i + 1, j))
        return i < len(a) and j < len(b) and a[i] == b[j] and meet(i + 1, j + 1)

    return meet(0, 0)


def template_glob(template: Template) -> str:
    """The tags a template can produce, as a glob: every placeholder becomes ``*``."""
    return "".join(part if type(part) is str else "*" for part in template.parts)


@register
class RewriteTagFilter(Filter):
    name = "rewrite_tag"
    summary = "re-emit records under a tag built from their content"
    options = (
        Option("rule", repeatable=True, help="$KEY REGEX NEW_TAG KEEP"),
        Option("emitter_name", ignored=True,
               help="re-emitted records go straight back into the filter chain; there is no emitter input to name"),
        Option("emitter_storage.type", default="memory", choices=("memory", "filesystem"), ignored=True,
               help="re-emitted records share the original chunk's buffer and storage"),
        Option("emitter_mem_buf_limit", "size", default="10M", ignored=True,
               help="re-emitted records count against the original input's Mem_Buf_Limit"),
    )

    def __init__(self, settings: Settings, context: Context) -> None:
        super().__init__(settings, context)
        self.rules: list[RewriteRule] = []
        for prop in settings.ordered(("rule",)):
            words = split_words(prop.value)
            if len(words) != 4:
                raise ConfigError(f"rewrite_tag: Rule takes '$KEY REGEX NEW_TAG KEEP', got {prop.value!r}", prop.location)
            key, regex, new_tag, keep = words
            try:
                search = compile_onigmo(regex).search
                keep_flag = parse_bool(keep)
            except (RegexError, ValueError) as exc:
                raise ConfigError(f"rewrite_tag: Rule {prop.value!r}: {exc}", prop.location) from None
            template = compile_template(new_tag)
            self._check_loop(template, prop)
            self.rules.append(RewriteRule(compile_accessor(key).get, search, template, keep_flag))
        if not self.rules:
            raise ConfigError("rewrite_tag: at least one Rule is required", settings.location)

    def _check_loop(self, template: Template, prop: Any) -> None:
        """Reject a new tag that this filter's own Match/Match_Regex could select again."""
        match, match_regex = self.settings.get("match"), self.settings.get("match_regex")
        produced = template_glob(template)
        if match_regex:
            sample = produced.replace("*", "x")
            loops = re.match(match_regex, sample) is not None
        else:
            loops = match is not None and globs_intersect(match, produced)
        if loops:
            raise ConfigError(
                f"rewrite_tag: Rule {prop.value!r}: the new tag {template.text!r} can match this filter's own "
                f"Match {match_regex or match!r}, so re-emitted records would be rewritten again (a loop)",
                prop.location,
            )

    async def process(self, tag: str, events: list[Event]) -> list[Event]:
        rules = self.rules
        kept: list[Event] = []
        emitted: dict[str, list[Event]] = {}
        for event in events:
            record = event[1]
            for rule in rules:
                value = rule.get(record)
                if type(value) is not str:
                    continue
                match = rule.search(value)
                if match is None:
                    continue
                new_tag = rule.template.render(record, tag, match)
                if rule.keep:
                    kept.append(event)
                    emitted.setdefault(new_tag, []).append((event[0], dict(record)))
                else:
                    emitted.setdefault(new_tag, []).append(event)
                break
            else:
                kept.append(event)
        for new_tag, batch in emitted.items():
            self.reemit(new_tag, batch)
        return kept
