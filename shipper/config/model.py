"""The reader-neutral form of a configuration.

The classic reader, the YAML reader and the ConfigMap loader all produce a
:class:`ConfigDocument`: ordered sections of raw properties with their file
and line.  Typing and validation happen later, against each plugin's option
table, so every format gets the same errors and the same behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shipper.errors import ConfigError, Location
from shipper.options import Property

#: Section kinds, as Fluent Bit names them (lower case).
SERVICE = "service"
INPUT = "input"
FILTER = "filter"
OUTPUT = "output"
PARSER = "parser"
MULTILINE_PARSER = "multiline_parser"


@dataclass
class Section:
    """One ``[KIND]`` block: its kind, properties in order, and where it starts."""

    kind: str
    properties: list[Property]
    location: Location

    def get(self, key: str) -> str | None:
        """The last value written for ``key`` (case-insensitive), or None."""
        key = key.lower()
        for prop in reversed(self.properties):
            if prop.key.lower() == key:
                return prop.value
        return None

    def where(self, key: str) -> Location:
        key = key.lower()
        for prop in self.properties:
            if prop.key.lower() == key:
                return prop.location
        return self.location

    @property
    def plugin_name(self) -> str | None:
        name = self.get("name")
        return name.strip().lower() if name is not None else None


@dataclass
class FargateSettings:
    """What an EKS Fargate ``aws-logging`` ConfigMap asks beyond its sections.

    Fargate's router ships its own log to CloudWatch when ``flb_log_cw`` is
    ``"true"``; the engine reads this to do the same for shipper's log.
    """

    log_to_cloudwatch: bool = False
    #: the EKS cluster name (``CLUSTER_NAME`` in the environment), "" when unknown.
    cluster: str = ""

    @property
    def log_group(self) -> str:
        """Fargate's group for the router's own log: ``<cluster>-fluent-bit-logs``."""
        return f"{self.cluster or 'unknown-cluster'}-fluent-bit-logs"


@dataclass
class ConfigDocument:
    """A whole configuration, after includes and variables, before typing.

    ``files`` lists every file read (for hot reload and error messages);
    ``warnings`` are problems that do not stop the pipeline (an unset
    ``${VAR}``); ``errors`` are problems found while reading.
    """

    sections: list[Section] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    warnings: list[ConfigError] = field(default_factory=list)
    errors: list[ConfigError] = field(default_factory=list)
    #: variables from ``@SET`` / YAML ``env``; record_modifier reads them too.
    variables: dict[str, str] = field(default_factory=dict)
    #: every variable a value used, and what it stood for (messages show the name, not the value).
    substituted: dict[str, str] = field(default_factory=dict)
    #: set when the config is a Fargate ``aws-observability/aws-logging`` ConfigMap.
    fargate: FargateSettings | None = None

    def of_kind(self, kind: str) -> list[Section]:
        return [s for s in self.sections if s.kind == kind]

    @property
    def service(self) -> list[Section]:
        return self.of_kind(SERVICE)

    @property
    def inputs(self) -> list[Section]:
        return self.of_kind(INPUT)

    @property
    def filters(self) -> list[Section]:
        return self.of_kind(FILTER)

    @property
    def outputs(self) -> list[Section]:
        return self.of_kind(OUTPUT)

    @property
    def parsers(self) -> list[Section]:
        return self.of_kind(PARSER)

    @property
    def multiline_parsers(self) -> list[Section]:
        return self.of_kind(MULTILINE_PARSER)
