"""``record_modifier``: append fixed fields, remove or allowlist keys (golden case 28).

``Record KEY VALUE`` appends KEY (an existing KEY is replaced and moves to the
end); VALUE may use ``${VAR}`` (``@SET`` variables, then the environment) and
must be quoted when it has spaces.  ``Remove_key KEY`` drops keys;
``Allowlist_key``/``Whitelist_key`` keep only the listed keys (absent ones are
ignored) and ``Record`` fields are appended after the allowlist.
``UUID_key KEY`` adds a random UUID per record.
"""

from __future__ import annotations

import os
import re
import uuid

from shipper.accessor import split_words
from shipper.errors import ConfigError
from shipper.events import Event
from shipper.options import Option, Settings
from shipper.plugin import Context, Filter
from shipper.registry import register

_VARIABLE = re.compile(r"\$\{([^}]+)\}")


@register
class RecordModifierFilter(Filter):
    name = "record_modifier"
    summary = "append fields, remove keys or keep only an allowlist"
    options = (
        Option("record", repeatable=True, help='KEY VALUE to append (quote values with spaces: "a b")'),
        Option("remove_key", repeatable=True, help="key to remove"),
        Option("allowlist_key", repeatable=True, help="keep only these keys"),
        Option("whitelist_key", repeatable=True, help="old name of Allowlist_key"),
        Option("uuid_key", help="add a random UUID under this key"),
    )

    def __init__(self, settings: Settings, context: Context) -> None:
        super().__init__(settings, context)
        self.fields: dict[str, str] = {}
        for prop in settings.ordered(("record",)):
            words = split_words(prop.value)
            if len(words) != 2:
                raise ConfigError(
                    f'record_modifier: Record takes KEY VALUE, got {prop.value!r} (quote a value with spaces: "a b")',
                    prop.location,
                )
            self.fields.pop(words[0], None)
            self.fields[words[0]] = self._expand(words[1])
        self.remove = frozenset(settings["remove_key"])
        allow = settings["allowlist_key"] + settings["whitelist_key"]
        self.allow = frozenset(allow) if allow else None
        self.uuid_key: str | None = settings.get("uuid_key")

    def _expand(self, value: str) -> str:
        def variable(match: re.Match[str]) -> str:
            name = match.group(1)
            found = self.context.variables.get(name, os.environ.get(name))
            if found is None:
                self.log.warning("Record value %r: ${%s} is not set; it becomes an empty string", value, name)
                return ""
            return found

        return _VARIABLE.sub(variable, value)

    async def process(self, tag: str, events: list[Event]) -> list[Event]:
        """Records are changed in place: deleting keys keeps the others' order."""
        fields, remove, allow, uuid_key = self.fields, self.remove, self.allow, self.uuid_key
        for _, record in events:
            if allow is not None:
                for key in [k for k in record if k not in allow]:
                    del record[key]
            if remove:
                for key in remove:
                    record.pop(key, None)
            for key, value in fields.items():
                record.pop(key, None)
                record[key] = value
            if uuid_key:
                record.pop(uuid_key, None)
                record[uuid_key] = str(uuid.uuid4())
        return events
