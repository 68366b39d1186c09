"""Kubernetes manifests as configuration: a ConfigMap's ``data`` keys are the files.

Users point shipper at the manifest they already deploy Fluent Bit with (a
DaemonSet's ConfigMap, or the Fargate ``aws-logging`` one), possibly a
multi-document file that also holds the Namespace, RBAC and DaemonSet.  The
chosen ConfigMap's keys become virtual files (see :mod:`shipper.config.files`)
named ``manifest.yaml[key]`` in messages, with lines counted inside the
key's own text, as a user reads them in the ConfigMap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

from shipper.config.yaml_format import line_of, yaml_error_line
from shipper.errors import ConfigError, Location

ENTRY_POINTS = ("fluent-bit.conf", "fluent-bit.yaml", "fluent-bit.yml")
FARGATE_NAMESPACE = "aws-observability"
FARGATE_NAME = "aws-logging"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_KIND_RE = re.compile(r"^kind:\s*[\"']?ConfigMap[\"']?\s*$", re.MULTILINE)


def looks_like_manifest(text: str) -> bool:
    """True for YAML holding a ConfigMap (Fluent Bit's own YAML has no ``kind:``)."""
    return _KIND_RE.search(text) is not None


@dataclass
class ConfigMap:
    """One ConfigMap document: its name, namespace, string data, and where it is."""

    name: str
    namespace: str
    data: dict[str, str]
    location: Location
    data_location: Location

    @property
    def is_fargate(self) -> bool:
        return self.name == FARGATE_NAME and self.namespace == FARGATE_NAMESPACE

    @property
    def entry_point(self) -> str | None:
        return next((key for key in ENTRY_POINTS if key in self.data), None)


@dataclass
class Namespace:
    name: str
    labels: dict[str, str]
    location: Location


@dataclass
class Manifest:
    path: str
    configmaps: list[ConfigMap] = field(default_factory=list)
    namespaces: list[Namespace] = field(default_factory=list)

    def choose(self) -> ConfigMap | None:
        """The Fargate ``aws-logging`` ConfigMap, else the first one holding ``fluent-bit.conf``/``.yaml``."""
        fargate = next((c for c in self.configmaps if c.is_fargate), None)
        return fargate or next((c for c in self.configmaps if c.entry_point), None)

    def describe(self) -> str:
        found = ", ".join(f"{c.namespace}/{c.name} ({', '.join(c.data) or 'no data'})" for c in self.configmaps)
        return found or "none"


def read_manifest(path: str, text: str, errors: list[ConfigError]) -> Manifest:
    """Every ConfigMap and Namespace of a (multi-document) manifest."""
    manifest = Manifest(path)
    try:
        nodes = list(yaml.compose_all(text, Loader=_LOADER))
        objects = list(yaml.load_all(text, Loader=_LOADER))
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc)
        errors.append(ConfigError(f"invalid YAML: {problem}", Location(path, yaml_error_line(exc))))
        return manifest
    for node, obj in zip(nodes, objects, strict=True):
        if not isinstance(obj, dict):
            continue
        metadata = _mapping(obj.get("metadata"))
        location = Location(path, line_of(node))
        if obj.get("kind") == "Namespace":
            labels = {str(k): str(v) for k, v in _mapping(metadata.get("labels")).items()}
            manifest.namespaces.append(Namespace(str(metadata.get("name", "")), labels, location))
        elif obj.get("kind") == "ConfigMap":
            manifest.configmaps.append(_configmap(node, obj, metadata, location, errors))
    return manifest


def _mapping(value: object) -> dict:
    """``value`` if it is a mapping, else an empty one (a malformed manifest is not shipper's to crash on)."""
    return value if isinstance(value, dict) else {}


def _configmap(node: yaml.Node, obj: dict, metadata: dict, location: Location, errors: list[ConfigError]) -> ConfigMap:
    pairs = node.value if isinstance(node, yaml.MappingNode) else []
    data_key, data_node = next(((k, v) for k, v in pairs if k.value == "data"), (None, None))
    data_location = Location(location.file, line_of(data_key)) if data_key is not None else location
    raw = obj.get("data") or {}
    data: dict[str, str] = {}
    if not isinstance(raw, dict):
        errors.append(ConfigError("ConfigMap 'data' must be a mapping of file name to text", data_location))
        raw = {}
    value_lines = {str(k.value): line_of(k) for k, _ in data_node.value} if isinstance(data_node, yaml.MappingNode) else {}
    for key, value in raw.items():
        if isinstance(value, str):
            data[str(key)] = value
        else:
            errors.append(
                ConfigError(
                    f"ConfigMap data {key!r} must be a string (quote it: \"{str(value).lower()}\"); Kubernetes rejects it",
                    Location(location.file, value_lines.get(str(key), data_location.line)),
                )
            )
    return ConfigMap(
        name=str(metadata.get("name", "")),
        namespace=str(metadata.get("namespace", "default")),
        data=data,
        location=location,
        data_location=data_location,
    )
