"""The ``multiline`` filter: join records whose text belongs together.

For logs whose stack traces reach shipper as separate records (each CRI
line becomes a record, then the trace lines must be joined), this runs the
same multiline engine as tail on one key of the records (``mode parser``),
or joins Docker's split messages by their ``partial_*`` metadata
(``mode partial_message``).  Groups are kept per tag.

Difference from Fluent Bit: a group never outlives the chunk it started in.
Fluent Bit buffers pending groups and re-emits them later through an
internal emitter input, which loses them on shutdown; here every pending
group is emitted at the end of the chunk, so records are never held where an
acknowledgement could not see them.  Tail emits whole reads as chunks, so a
trace is split only when the writer was mid-trace when tail read the file.
"""

from __future__ import annotations

from typing import Any

from shipper.errors import ConfigError
from shipper.events import Event
from shipper.multiline import MultilineParser, new_decoder
from shipper.multiline.decoder import Decoder, DecoderChain
from shipper.options import Option, Settings
from shipper.plugin import Context, Filter
from shipper.registry import register

PARTIAL_KEYS = ("partial_message", "partial_id", "partial_ordinal", "partial_last")


class ValueLines:
    """Feeds one key's text of each event to a line decoder (cri/docker on records)."""

    def __init__(self, inner: Decoder, key: str) -> None:
        self.inner = inner
        self.key = key

    @property
    def truncated(self) -> int:
        return self.inner.truncated

    def decode(self, items: list[Any], start: int, end: int, ts: int, out: list[Event]) -> int:
        texts = []
        for index in range(start, end):
            value = items[index][1].get(self.key)
            if not isinstance(value, str):
                break
            texts.append(value)
        if not texts:
            return start
        return start + self.inner.decode(texts, 0, len(texts), items[start][0], out)

    def flush(self, out: list[Event]) -> None:
        self.inner.flush(out)

    def expire(self, now: float, out: list[Event]) -> None:
        self.inner.expire(now, out)

    def pending(self) -> bool:
        return self.inner.pending()


def join_partials(events: list[Event], key: str) -> list[Event]:
    """``mode partial_message``: join records split by Docker's log driver (``partial_*`` keys)."""
    out: list[Event] = []
    open_groups: dict[Any, tuple[int, dict[str, Any], list[str]]] = {}
    for event in events:
        record = event[1]
        if str(record.get("partial_message", "")).lower() != "true" or not isinstance(record.get(key), str):
            out.append(event)
            continue
        group_id = record.get("partial_id")
        group = open_groups.get(group_id)
        if group is None:
            group = open_groups[group_id] = (event[0], record, [])
        group[2].append(record[key])
        if str(record.get("partial_last", "")).lower() == "true":
            del open_groups[group_id]
            out.append(_joined(group, key))
    out.extend(_joined(group, key) for group in open_groups.values())
    return out


def _joined(group: tuple[int, dict[str, Any], list[str]], key: str) -> Event:
    when, first, parts = group
    record = {k: v for k, v in first.items() if k not in PARTIAL_KEYS}
    record[key] = "".join(parts)
    return when, record


@register
class MultilineFilter(Filter):
    """Fluent Bit's multiline filter over whole chunks."""

    name = "multiline"
    summary = "join multiline messages (stack traces, split container lines) across records"
    options = (
        Option("multiline.parser", "list", default=[], help="multiline parsers tried in order"),
        Option("multiline.key_content", default="log", help="key holding the text to join"),
        Option("mode", default="parser", choices=("parser", "partial_message"), help="how records are grouped"),
        Option("buffer", "bool", default="true", help="accepted; groups are joined within each chunk"),
        Option("flush_ms", "int", default=2000, help="accepted; groups never outlive their chunk"),
        Option("emitter_name", ignored=True, help="accepted for compatibility"),
        Option("emitter_storage.type", default="memory", ignored=True, help="accepted for compatibility"),
        Option("emitter_mem_buf_limit", "size", default="10M", ignored=True, help="accepted for compatibility"),
        Option("debug_flush", "bool", default="false", ignored=True, help="accepted for compatibility"),
    )

    def __init__(self, settings: Settings, context: Context) -> None:
        super().__init__(settings, context)
        self.key: str = settings["multiline.key_content"]
        self.mode: str = settings["mode"].lower()
        self.parsers: list[MultilineParser] = []
        for name in settings["multiline.parser"]:
            parser = context.multiline_parsers.get(name)
            if parser is None:
                raise ConfigError(f"multiline: multiline parser {name!r} is not defined",
                                  settings.where("multiline.parser"))
            self.parsers.append(parser)
        if self.mode == "parser" and not self.parsers:
            raise ConfigError("multiline: mode parser needs multiline.parser", settings.location)

    def _decoder(self, parser: MultilineParser) -> Decoder:
        decoder = new_decoder(parser, self.key, False)
        return ValueLines(decoder, self.key) if parser.type in ("cri", "docker") else decoder

    def _chain(self) -> DecoderChain:
        return DecoderChain([self._decoder(p) for p in self.parsers], lambda event, ts: event)

    async def process(self, tag: str, events: list[Event]) -> list[Event]:
        if self.mode == "partial_message":
            return join_partials(events, self.key)
        chain = self._chain()
        out: list[Event] = []
        chain.decode(events, 0, out)
        chain.flush(out)
        if chain.truncated:
            self.count("shipper_multiline_truncated_total", chain.truncated)
        return out
