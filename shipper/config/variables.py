"""``${VAR}`` expansion in property values, with Fluent Bit's precedence.

Fluent Bit expands variables when it applies a value, after every ``@SET``
of the configuration was read, so a ``@SET`` anywhere (even below its use,
even in an included file) counts, and it wins over the environment.  An
unset variable becomes the empty string; shipper also warns, with the line.

A value that came from a variable may be a secret (``HTTP_Passwd
${ES_PASSWORD}``), and messages quote values: :func:`conceal` writes it
back as ``${NAME}`` in every error and warning before they are shown.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

from shipper.config.model import ConfigDocument, Section
from shipper.errors import ConfigError, Location
from shipper.options import Property

VARIABLE_RE = re.compile(r"\$\{([^{}]+)\}")


def expand_sections(document: ConfigDocument, sections: list[Section], environ: Mapping[str, str]) -> None:
    """Replace ``${VAR}`` in the values of ``sections`` (``@SET``/``env`` first, then ``environ``)."""
    variables = document.variables

    def lookup(match: re.Match[str], location: Location) -> str:
        name = match.group(1).strip()
        for source in (variables, environ):
            if name in source:
                document.substituted[name] = source[name]
                return source[name]
        document.warnings.append(
            ConfigError(f"variable ${{{name}}} is not set (no @SET, env or environment variable); using an empty value", location)
        )
        return ""

    for section in sections:
        for index, prop in enumerate(section.properties):
            if "${" in prop.value:
                location = prop.location
                value = VARIABLE_RE.sub(functools.partial(lookup, location=location), prop.value)
                section.properties[index] = Property(prop.key, value, location)


#: values shorter than this are not concealed: "On" or "5" would turn every message into noise.
SHORTEST_CONCEALED = 3


def conceal(document: ConfigDocument, problems: list[ConfigError]) -> list[ConfigError]:
    """``problems`` with every value a variable supplied written back as ``${NAME}``."""
    values = sorted(((v, n) for n, v in document.substituted.items() if len(v) >= SHORTEST_CONCEALED),
                    key=lambda pair: -len(pair[0]))
    if not values:
        return problems
    pattern = re.compile("|".join(rf"(?<!\w){re.escape(v)}(?!\w)" for v, _ in values))
    names = dict(values)
    return [
        ConfigError(pattern.sub(lambda m: f"${{{names[m.group(0)]}}}", p.message), p.location)
        if pattern.search(p.message) else p
        for p in problems
    ]
