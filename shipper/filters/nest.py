"""``nest``: move keys into a map (``nest``) or a map's keys up (``lift``) (golden case 29).

``Operation nest`` takes every key matching a ``Wildcard`` (a trailing ``*``
matches by prefix, otherwise exactly) into a new map under ``Nest_under``,
appended at the end; records with no matching key are left alone.
``Operation lift`` replaces the map under ``Nested_under`` by its keys,
appended at the end (a non-map value is left alone, an empty map disappears).
``Add_prefix``/``Remove_prefix`` rename the moved keys (not both in one
filter).  On a clash with an existing key the moved value wins, at the end.
As in Fluent Bit, ``Nest_under`` and ``Nested_under`` are one setting under
two names (the last one written wins) whatever the operation: AWS's
Container Insights manifest nests with ``Nested_under``.
"""

from __future__ import annotations

from collections.abc import Callable

from shipper.errors import ConfigError
from shipper.events import Event
from shipper.options import Option, Settings
from shipper.plugin import Context, Filter
from shipper.registry import register


@register
class NestFilter(Filter):
    name = "nest"
    summary = "nest keys under a map, or lift a map's keys to the top level"
    options = (
        Option("operation", required=True, choices=("nest", "lift"), help="nest or lift"),
        Option("wildcard", repeatable=True, help="keys to nest (trailing * = prefix)"),
        Option("nest_under", help="map to nest the keys under (nest), or to lift (same as Nested_under)"),
        Option("nested_under", help="map whose keys to lift (lift), or to nest under (same as Nest_under)"),
        Option("add_prefix", help="prefix added to moved keys"),
        Option("remove_prefix", help="prefix removed from moved keys"),
    )

    def __init__(self, settings: Settings, context: Context) -> None:
        super().__init__(settings, context)
        self.operation = settings["operation"].lower()
        add, remove = settings.get("add_prefix"), settings.get("remove_prefix")
        if add and remove:
            raise ConfigError("nest: Add_prefix and Remove_prefix cannot be used together", settings.where("remove_prefix"))
        if add:
            self.rename: Callable[[str], str] = lambda key: add + key
        elif remove:
            self.rename = lambda key: key[len(remove) :] if key.startswith(remove) else key
        else:
            self.rename = lambda key: key
        self.renames = bool(add or remove)
        under = [p.value for p in settings.ordered(["nest_under", "nested_under"]) if p.value]
        if self.operation == "nest":
            if not settings["wildcard"] or not under:
                raise ConfigError("nest: Operation nest needs Wildcard and Nest_under", settings.location)
            patterns = settings["wildcard"]
            self.exact = frozenset(p for p in patterns if not p.endswith("*"))
            self.prefixes = tuple(p[:-1] for p in patterns if p.endswith("*"))
        elif not under:
            raise ConfigError("nest: Operation lift needs Nested_under", settings.location)
        self.under: str = under[-1]

    def _nest(self, events: list[Event]) -> None:
        exact, prefixes, under, rename = self.exact, self.prefixes, self.under, self.rename
        for _, record in events:
            moved = {k: v for k, v in record.items() if k in exact or k.startswith(prefixes)}
            if not moved:
                continue
            for key in moved:
                del record[key]
            record.pop(under, None)
            record[under] = {rename(k): v for k, v in moved.items()} if self.renames else moved

    def _lift(self, events: list[Event]) -> None:
        under, rename, renames = self.under, self.rename, self.renames
        for _, record in events:
            inner = record.get(under)
            if not isinstance(inner, dict):
                continue
            del record[under]
            for key, value in inner.items():
                if renames:
                    key = rename(key)
                record.pop(key, None)
                record[key] = value

    async def process(self, tag: str, events: list[Event]) -> list[Event]:
        """Records are changed in place: deleting keys keeps the others' order."""
        if self.operation == "nest":
            self._nest(events)
        else:
            self._lift(events)
        return events
