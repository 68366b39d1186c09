"""Declared plugin options: one table per plugin drives parsing, errors and docs.

Every input, filter, output and parser declares its options once as a tuple
of :class:`Option`.  :func:`resolve` turns the raw ``key value`` properties of
a config section into typed :class:`Settings`, collecting every error (unknown
key with a "did you mean", wrong type, repeated key, missing required key)
with its file and line, so ``shipper check`` can report them all at once.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from shipper.errors import ConfigError, Location

TRUE_WORDS = frozenset({"on", "true", "yes", "1"})
FALSE_WORDS = frozenset({"off", "false", "no", "0"})

_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)[bB]?\s*$")
_SIZE_UNITS = {"": 1, "k": 1000, "m": 1000**2, "g": 1000**3}
_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$", re.IGNORECASE)
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_bool(text: str) -> bool:
    """Fluent Bit's booleans: on/off, true/false, yes/no, 1/0 (any case)."""
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"expected a boolean (on/off, true/false, yes/no), got {text!r}")


def parse_int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(f"expected a whole number, got {text!r}") from None


def parse_float(text: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise ValueError(f"expected a number, got {text!r}") from None


def parse_size(text: str) -> int:
    """Sizes such as ``32k``, ``5MB``, ``1G`` (k/M/G are 1000-based, as Fluent Bit's)."""
    match = _SIZE_RE.match(text)
    if not match:
        raise ValueError(f"expected a size such as 32k, 5MB or 1G, got {text!r}")
    number, unit = match.groups()
    return int(float(number) * _SIZE_UNITS[unit.lower()])


def parse_duration(text: str) -> float:
    """Durations in seconds: ``5``, ``5s``, ``500ms``, ``1m``, ``2h``."""
    match = _DURATION_RE.match(text)
    if not match:
        raise ValueError(f"expected a duration such as 5, 5s, 500ms or 1m, got {text!r}")
    number, unit = match.groups()
    return float(number) * _DURATION_UNITS[(unit or "s").lower()]


def parse_list(text: str) -> list[str]:
    """Comma- or space-separated lists (``docker, cri`` or ``a b c``)."""
    return [part for part in re.split(r"[,\s]+", text.strip()) if part]


def parse_str(text: str) -> str:
    return text


def parse_retry_limit(text: str, where: Location | None = None) -> int | None:
    """``Retry_Limit``: a count of retries, ``no_limits``/``false`` (None = unlimited), or ``no_retries`` (0)."""
    word = text.strip().lower()
    if word in ("no_limits", "false", "off"):
        return None
    if word == "no_retries":
        return 0
    try:
        value = int(word)
    except ValueError:
        raise ConfigError(
            f"Retry_Limit: expected a number, no_limits, False or no_retries, got {text!r}", where
        ) from None
    if value < 0:
        raise ConfigError(f"Retry_Limit: must not be negative, got {value}", where)
    return value


PARSERS: dict[str, Callable[[str], Any]] = {
    "str": parse_str,
    "int": parse_int,
    "float": parse_float,
    "bool": parse_bool,
    "size": parse_size,
    "duration": parse_duration,
    "list": parse_list,
}


@dataclass(frozen=True, slots=True)
class Option:
    """One option a plugin accepts.

    ``default`` is given as Fluent Bit writes it (text) or already typed;
    ``repeatable`` options collect every occurrence into a list in config
    order.  ``choices`` restricts values (compared case-insensitively).
    ``ignored`` marks a Fluent Bit option shipper accepts so a config keeps
    working, but that changes nothing here (``help`` says why): ``shipper
    plugins`` and the plugin pages say so, and ``check`` warns where a
    config sets it (:func:`ignored_options`).
    """

    name: str
    type: str = "str"
    default: Any = None
    help: str = ""
    required: bool = False
    repeatable: bool = False
    choices: tuple[str, ...] | None = None
    ignored: bool = False

    def __post_init__(self) -> None:
        if self.type not in PARSERS:
            raise ValueError(f"option {self.name}: unknown type {self.type}")

    @property
    def key(self) -> str:
        return self.name.lower()

    @property
    def ignored_note(self) -> str:
        """``accepted and ignored: <why>`` for an ``ignored`` option."""
        why = self.help.removeprefix("accepted for compatibility").lstrip(";:, ")
        return f"accepted and ignored: {why}" if why else "accepted and ignored"

    def convert(self, text: str) -> Any:
        value = PARSERS[self.type](text)
        if self.choices is not None and str(value).lower() not in self.choices:
            raise ValueError(f"expected one of {', '.join(self.choices)}, got {text!r}")
        return value

    def default_value(self) -> Any:
        if self.repeatable:
            return []
        if isinstance(self.default, str) and self.type != "str":
            return self.convert(self.default)
        return self.default


@dataclass(frozen=True, slots=True)
class Property:
    """A raw ``key value`` line of a section, before typing."""

    key: str
    value: str
    location: Location


class Settings:
    """Typed option values of one plugin instance, and where each came from.

    Keys are case-insensitive.  ``properties`` keeps every raw line in config
    order, which order-sensitive plugins (modify's rules) read directly.
    """

    def __init__(
        self,
        values: dict[str, Any],
        origins: dict[str, Location],
        properties: list[Property],
        location: Location,
        instance_name: str = "",
    ) -> None:
        self._values = values
        self._origins = origins
        self.properties = properties
        self.location = location
        self.instance_name = instance_name

    def __getitem__(self, name: str) -> Any:
        return self._values[name.lower()]

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._values

    def get(self, name: str, default: Any = None) -> Any:
        value = self._values.get(name.lower())
        return default if value is None else value

    def is_set(self, name: str) -> bool:
        """True when the config wrote this option (rather than taking its default)."""
        return name.lower() in self._origins

    def where(self, name: str) -> Location:
        """Where an option was written, or the section when it took its default."""
        return self._origins.get(name.lower(), self.location)

    def ordered(self, names: Iterable[str]) -> Iterator[Property]:
        """The raw properties whose key is among ``names``, in config order."""
        wanted = {n.lower() for n in names}
        return (p for p in self.properties if p.key.lower() in wanted)

    def items(self) -> Iterator[tuple[str, Any]]:
        return iter(self._values.items())


def suggest(word: str, candidates: Iterable[str]) -> str:
    """A " (did you mean X?)" hint for a misspelt word, or an empty string."""
    close = difflib.get_close_matches(word.lower(), [c.lower() for c in candidates], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def ignored_options(table: Iterable[Option], settings: Settings, what: str) -> list[ConfigError]:
    """A warning for each option of ``table`` that ``settings`` set but that is accepted and ignored."""
    return [
        ConfigError(f"{what}: option {option.name!r} is {option.ignored_note}", settings.where(option.name))
        for option in table
        if option.ignored and settings.is_set(option.name)
    ]


def resolve(
    table: Iterable[Option],
    properties: list[Property],
    location: Location,
    what: str,
    instance_name: str = "",
    errors: list[ConfigError] | None = None,
) -> Settings:
    """Type the properties of one section against an option table.

    Errors are appended to ``errors`` (so every problem is reported at once);
    when ``errors`` is None the first one is raised.
    """
    sink: list[ConfigError] = [] if errors is None else errors
    start = len(sink)
    options = {o.key: o for o in table}
    values: dict[str, Any] = {key: o.default_value() for key, o in options.items()}
    origins: dict[str, Location] = {}
    written: set[str] = set()
    for prop in properties:
        key = prop.key.lower()
        written.add(key)
        option = options.get(key)
        if option is None:
            sink.append(ConfigError(f"{what}: unknown option {prop.key!r}{suggest(key, options)}", prop.location))
            continue
        if option.required and not prop.value.strip():
            # an unset ${VAR} leaves the value empty: the plugin would fail at start, not here
            sink.append(ConfigError(f"{what}: option {prop.key!r} is required and its value is empty", prop.location))
            continue
        if key in origins and not option.repeatable:
            sink.append(
                ConfigError(
                    f"{what}: option {prop.key!r} is set twice (first at line {origins[key].line}); "
                    "it takes one value",
                    prop.location,
                )
            )
            continue
        try:
            value = option.convert(prop.value)
        except ValueError as exc:
            sink.append(ConfigError(f"{what}: option {prop.key!r}: {exc}", prop.location))
            continue
        if option.repeatable:
            values[key].append(value)
        else:
            values[key] = value
        origins.setdefault(key, prop.location)
    for key, option in options.items():
        if option.required and key not in written:
            sink.append(ConfigError(f"{what}: option {option.name!r} is required", location))
    if errors is None and len(sink) > start:
        raise sink[start]
    return Settings(values, origins, properties, location, instance_name)
