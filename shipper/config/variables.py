"""``${VAR}`` expansion in property values, with Fluent Bit's precedence.

Fluent Bit expands variables when it applies a value, after every ``@SET``
of the configuration was read, so a ``@SET`` anywhere (even below its use,
even in an included file) counts, and it wins over the environment.  An
unset variable becomes the empty string; shipper also warns, with the line.
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
        if name in variables:
            return variables[name]
        if name in environ:
            return environ[name]
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
