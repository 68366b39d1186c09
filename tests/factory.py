"""Build plugin instances from plain key/value pairs, the way a config section would."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from shipper import registry
from shipper.errors import Location
from shipper.options import Property, resolve
from shipper.pipeline import SERVICE_OPTIONS
from shipper.plugin import Context, Plugin


def make_context(**service: str) -> Context:
    """A Context whose [SERVICE] settings are defaults plus ``service``."""
    props = [Property(k, str(v), Location("<test>", 1)) for k, v in service.items()]
    return Context(service=resolve(SERVICE_OPTIONS, props, Location("<test>"), "[SERVICE]", "service"))


def make_plugin(
    kind: str,
    name: str,
    properties: Mapping[str, str] | Iterable[tuple[str, str]] = (),
    context: Context | None = None,
    instance_name: str | None = None,
) -> Plugin:
    """Construct a registered plugin; repeated keys may be given as a list of pairs."""
    cls = registry.lookup(kind, name)
    assert cls is not None, f"no {kind} plugin {name!r}"
    pairs = properties.items() if isinstance(properties, Mapping) else properties
    props = [Property("name", name, Location("<test>", 1))]
    props += [Property(k, str(v), Location("<test>", i + 2)) for i, (k, v) in enumerate(pairs)]
    settings = resolve(
        cls.option_table(), props, Location("<test>"), f"[{kind.upper()}] {name}", instance_name or f"{cls.name}.0"
    )
    return cls(settings, context or make_context())
