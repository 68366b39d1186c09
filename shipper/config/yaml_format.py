"""Fluent Bit's YAML configuration format.

Top-level keys: ``env`` (variables, like ``@SET``), ``includes``,
``service``, ``pipeline`` (``inputs``/``filters``/``outputs`` lists),
``parsers`` and ``multiline_parsers`` (whose ``rules`` lists of
``{state, regex, next_state}`` become classic ``rule`` lines).  A list value
repeats its key (``add: [a 1, b 2]`` is two ``add`` lines).  The file is
composed, not loaded, so every property keeps the line YAML saw it on, and
values keep their source text (``on`` stays ``on``, not ``True``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import yaml

from shipper.config.model import FILTER, INPUT, MULTILINE_PARSER, OUTPUT, PARSER, SERVICE, Section
from shipper.errors import Location
from shipper.options import Property, suggest

if TYPE_CHECKING:
    from shipper.config.reader import Reader

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_NULL_TAG = "tag:yaml.org,2002:null"
_PIPELINE_KINDS = {"inputs": INPUT, "filters": FILTER, "outputs": OUTPUT}
_TOP_LEVEL = ("env", "includes", "service", "pipeline", "parsers", "multiline_parsers")
_UNSUPPORTED_TOP_LEVEL = frozenset({"customs", "plugins", "upstream_servers", "stream_processor"})
_RULE_FIELDS = ("state", "regex", "next_state")


def compose(text: str) -> yaml.Node | None:
    """One YAML document as nodes with line marks (raises yaml.YAMLError)."""
    return yaml.compose(text, Loader=_LOADER)


def line_of(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def yaml_error_line(exc: yaml.YAMLError) -> int:
    """The 1-based line a YAML syntax error points at (0 when PyYAML gives none)."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return mark.line + 1 if mark is not None else 0


def parse_yaml(reader: Reader, name: str, text: str) -> None:
    """Append the sections of one Fluent Bit YAML file (and its includes) to the reader's document."""
    _YamlFile(reader, name).parse(text)


class _YamlFile:
    def __init__(self, reader: Reader, name: str) -> None:
        self.reader = reader
        self.name = name

    def at(self, node: yaml.Node) -> Location:
        return Location(self.name, line_of(node))

    def parse(self, text: str) -> None:
        try:
            root = compose(text)
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or str(exc)
            self.reader.error(f"invalid YAML: {problem}", Location(self.name, yaml_error_line(exc)))
            return
        if root is None:
            return
        if not isinstance(root, yaml.MappingNode):
            self.reader.error("a Fluent Bit YAML configuration must be a mapping of sections", self.at(root))
            return
        for key_node, value in root.value:
            self._top_level(str(key_node.value).lower(), key_node, value)

    def _top_level(self, key: str, key_node: yaml.Node, value: yaml.Node) -> None:
        if key == "env":
            for name_node, value_node in self._mapping(value, "env"):
                text = self._scalar(value_node, str(name_node.value))
                if text is not None:
                    self.reader.document.variables[str(name_node.value)] = text
        elif key == "includes":
            for item in self._sequence(value, "includes"):
                path = self._scalar(item, "includes")
                if path is not None:
                    self.reader.include(path, self.name, self.at(item))
        elif key == "service":
            section = self.reader.open_section(SERVICE, self.at(key_node))
            if section is not None:
                self._fill(section, value, "service")
        elif key == "pipeline":
            for kind_node, entries in self._mapping(value, "pipeline"):
                kind = _PIPELINE_KINDS.get(str(kind_node.value).lower())
                if kind is None:
                    self.reader.error(
                        f"pipeline: unknown key {kind_node.value!r}{suggest(str(kind_node.value), _PIPELINE_KINDS)}",
                        self.at(kind_node),
                    )
                    continue
                self._entries(kind, entries, str(kind_node.value))
        elif key == "parsers":
            self._entries(PARSER, value, "parsers")
        elif key == "multiline_parsers":
            self._entries(MULTILINE_PARSER, value, "multiline_parsers")
        elif key in _UNSUPPORTED_TOP_LEVEL:
            self.reader.error(f"{key_node.value!r} exists in Fluent Bit's YAML but shipper does not support it", self.at(key_node))
        else:
            self.reader.error(f"unknown top-level key {key_node.value!r}{suggest(key, _TOP_LEVEL)}", self.at(key_node))

    def _entries(self, kind: str, node: yaml.Node, what: str) -> None:
        """A list of plugin (or parser) maps: one section each."""
        for entry in self._sequence(node, what):
            if not isinstance(entry, yaml.MappingNode):
                self.reader.error(f"{what}: each entry must be a mapping of key: value", self.at(entry))
                continue
            section = self.reader.open_section(kind, self.at(entry), parsers_in_main=True)
            if section is not None:
                self._fill(section, entry, what)

    def _fill(self, section: Section, node: yaml.Node, what: str) -> None:
        for key_node, value in self._mapping(node, what):
            key = str(key_node.value)
            if section.kind == MULTILINE_PARSER and key.lower() == "rules":
                section.properties.extend(self._rules(value))
            elif key.lower() == "processors":
                self.reader.error(f"{what}: 'processors' are not supported by shipper", self.at(key_node))
            elif isinstance(value, yaml.SequenceNode):
                for item in value.value:
                    text = self._scalar(item, key)
                    if text is not None:
                        section.properties.append(Property(key, text, self.at(item)))
            else:
                text = self._scalar(value, key)
                if text is not None:
                    section.properties.append(Property(key, text, self.at(key_node)))

    def _rules(self, node: yaml.Node) -> list[Property]:
        """``rules: [{state, regex, next_state}]`` as classic ``rule "state" "regex" "next"`` lines."""
        rules = []
        for item in self._sequence(node, "rules"):
            fields = {str(k.value).lower(): v for k, v in self._mapping(item, "rules")}
            missing = [f for f in _RULE_FIELDS if f not in fields]
            if missing:
                self.reader.error(f"multiline rule is missing {', '.join(missing)}", self.at(item))
                continue
            texts = [self._scalar(fields[f], f) for f in _RULE_FIELDS]
            if None not in texts:
                quoted = " ".join('"' + str(t).replace('"', '\\"') + '"' for t in texts)
                rules.append(Property("rule", quoted, self.at(item)))
        return rules

    def _mapping(self, node: yaml.Node, what: str) -> list[tuple[yaml.Node, yaml.Node]]:
        if isinstance(node, yaml.MappingNode):
            return node.value
        if not (isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG):
            self.reader.error(f"{what}: expected a mapping of key: value", self.at(node))
        return []

    def _sequence(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if isinstance(node, yaml.SequenceNode):
            return node.value
        if not (isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG):
            self.reader.error(f"{what}: expected a list", self.at(node))
        return []

    def _scalar(self, node: yaml.Node, key: str) -> str | None:
        """A value's text as written, or None (and an error) for an empty value or a nested map."""
        if not isinstance(node, yaml.ScalarNode):
            nested = "sequence" if isinstance(node, yaml.SequenceNode) else "mapping"
            self.reader.error(f"{key!r}: expected a plain value, got a nested {nested}", self.at(node))
            return None
        if node.tag == _NULL_TAG or not str(node.value).strip():
            self.reader.error(f"key {key!r} has no value", self.at(node))
            return None
        return str(node.value).strip()
